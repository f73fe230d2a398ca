// The binding against include/onedrive.abi.json (AbiContract), and that the
// check fails on each kind of drift.
using System;
using System.Collections.Generic;
using System.Linq;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class AbiContractTests
    {
        static string AbiPath
        {
            get
            {
                string env = Environment.GetEnvironmentVariable("ONEDRIVE_ABI");
                if (string.IsNullOrEmpty(env))
                    throw new InvalidOperationException("set ONEDRIVE_ABI to include/onedrive.abi.json (run_tests.sh does)");
                return env;
            }
        }

        static Dictionary<string, object> Part(Dictionary<string, object> abi, params string[] keys)
        {
            foreach (string k in keys) abi = (Dictionary<string, object>)abi[k];
            return abi;
        }

        static List<string> Problems(Dictionary<string, object> abi)
        {
            return AbiContract.Problems(typeof(NativeMethods).Assembly, abi);
        }

        [Test]
        public void TheBindingMatchesTheAbiDescription()
        {
            var problems = Problems(AbiContract.Load(AbiPath));
            Assert.IsEmpty(problems, string.Join("\n", problems));
        }

        static void Fails(Action<Dictionary<string, object>> plant, string needle)
        {
            var abi = AbiContract.Load(AbiPath);
            plant(abi);
            var problems = Problems(abi);
            Assert.IsTrue(problems.Any(p => p.Contains(needle)), "expected a problem naming " + needle + ", got: " + string.Join("; ", problems));
        }

        [Test]
        public void EachKindOfDriftFails()
        {
            Fails(a => Part(a, "functions")["od_brand_new"] = new Dictionary<string, object> { { "return", "void" }, { "params", new List<object>() } },
                  "od_brand_new");
            Fails(a => ((List<object>)Part(a, "functions", "od_item_size")["params"]).Add(
                      new Dictionary<string, object> { { "name", "x" }, { "type", "int32_t" } }), "od_item_size");
            Fails(a => ((Dictionary<string, object>)((List<object>)Part(a, "functions", "od_client_set_retry")["params"])[2])["type"] = "uint32_t",
                  "argument 2 (max_wait_ms): C uint32_t");
            Fails(a => Part(a, "constants")["OD_HASH_SHA256"] = 4L, "OD_HASH_SHA256");
            Fails(a => Part(a, "constants")["OD_LOG_DEBUG"] = 5L, "OD_LOG_DEBUG");
            Fails(a => Part(a, "constants")["OD_LOG_TRACE"] = 5L, "OD_LOG_TRACE");
            Fails(a => ((List<object>)Part(a, "callbacks", "od_log_fn")["params"]).RemoveAt(2), "od_log_fn");
            Fails(a => Part(a, "enums", "od_conflict", "values")["OD_CONFLICT_RENAME"] = 7L, "OD_CONFLICT_RENAME");
        }

        [Test]
        public void EveryStatusHasItsExceptionAndText()
        {
            foreach (var kv in Part(AbiContract.Load(AbiPath), "enums", "od_status", "values"))
            {
                var s = (OneDriveStatus)(int)(long)kv.Value;
                var e = OneDriveException.Create(s, "m", 0, null, null, null, null);
                Assert.AreEqual(s, e.Status, kv.Key);
                Assert.IsTrue(OneDriveClient.StatusText(s).StartsWith(kv.Key), kv.Key + ": " + OneDriveClient.StatusText(s));
            }
            Assert.IsInstanceOf<OneDriveNotFoundException>(OneDriveException.Create(OneDriveStatus.NotFound, "m", 404, null, null, null, null));
            Assert.IsInstanceOf<OneDriveConflictException>(OneDriveException.Create(OneDriveStatus.Conflict, "m", 409, null, null, null, null));
            Assert.IsInstanceOf<OneDriveThrottledException>(OneDriveException.Create(OneDriveStatus.Throttled, "m", 429, null, null, null, null));
            Assert.IsInstanceOf<OneDriveInvalidNameException>(OneDriveException.Create(OneDriveStatus.InvalidName, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveTlsException>(OneDriveException.Create(OneDriveStatus.Tls, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveProxyException>(OneDriveException.Create(OneDriveStatus.Proxy, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveNetworkException>(OneDriveException.Create(OneDriveStatus.Proxy, "m", 0, null, null, null, null));
        }
    }
}
