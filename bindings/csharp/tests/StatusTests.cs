// The generated status table (Status.g.cs, from include/onedrive.abi.json by
// tools/gen_bindings.py) against the loaded library: every status has its
// text and its exception type. The declarations themselves are generated, so
// a function the header no longer has is a compile error, not a test.
using System;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class StatusTests
    {
        static string CName(OneDriveStatus s)
        {
            if (s == OneDriveStatus.Ok) return "OD_OK";
            var name = s.ToString();
            var sb = new System.Text.StringBuilder("OD_ERR_");
            for (int i = 0; i < name.Length; i++)
            {
                if (i > 0 && char.IsUpper(name[i])) sb.Append('_');
                sb.Append(char.ToUpperInvariant(name[i]));
            }
            return sb.ToString();
        }

        [Test]
        public void EveryStatusHasItsExceptionAndText()
        {
            int count = 0;
            foreach (OneDriveStatus s in Enum.GetValues(typeof(OneDriveStatus)))
            {
                var e = OneDriveException.Create(s, "m", 0, null, null, null, null);
                Assert.AreEqual(s, ((IOneDriveError)e).Status, s.ToString());
                Assert.AreEqual(s == OneDriveStatus.NullArgument || s == OneDriveStatus.InvalidUtf8
                    || s == OneDriveStatus.InvalidArgument || s == OneDriveStatus.InvalidName,
                    e is ArgumentException, s + ": only argument errors are ArgumentExceptions");
                Assert.AreEqual(!(e is ArgumentException), e is OneDriveException, s.ToString());
                if (s != OneDriveStatus.Ok && s != OneDriveStatus.BufferTooSmall && s != OneDriveStatus.Panic)
                    Assert.AreNotEqual(typeof(OneDriveException), e.GetType(), s + " has no exception type of its own");
                Assert.IsTrue(OneDriveClient.StatusText(s).StartsWith(CName(s)), CName(s) + ": " + OneDriveClient.StatusText(s));
                count++;
            }
            Assert.GreaterOrEqual(count, 29);
            Assert.IsInstanceOf<OneDriveNotFoundException>(OneDriveException.Create(OneDriveStatus.NotFound, "m", 404, null, null, null, null));
            Assert.IsInstanceOf<OneDriveConflictException>(OneDriveException.Create(OneDriveStatus.Conflict, "m", 409, null, null, null, null));
            Assert.IsInstanceOf<OneDriveThrottledException>(OneDriveException.Create(OneDriveStatus.Throttled, "m", 429, null, null, null, null));
            Assert.IsInstanceOf<OneDriveInvalidNameException>(OneDriveException.Create(OneDriveStatus.InvalidName, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveInvalidArgumentException>(OneDriveException.Create(OneDriveStatus.InvalidUtf8, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveCancelledException>(OneDriveException.Create(OneDriveStatus.AbortedByCallback, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveTlsException>(OneDriveException.Create(OneDriveStatus.Tls, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveProxyException>(OneDriveException.Create(OneDriveStatus.Proxy, "m", 0, null, null, null, null));
            Assert.IsInstanceOf<OneDriveNetworkException>(OneDriveException.Create(OneDriveStatus.Proxy, "m", 0, null, null, null, null));
            Assert.AreEqual(typeof(OneDriveException), OneDriveException.Create((OneDriveStatus)9999, "m", 0, null, null, null, null).GetType());
            var cause = new Exception("cause");
            Assert.AreSame(cause, OneDriveException.Create(OneDriveStatus.Unauthorized, "m", 401, null, null, null, null, cause).InnerException);
            Assert.AreSame(cause, OneDriveException.Create(OneDriveStatus.InvalidName, "m", 0, null, null, null, null, cause).InnerException);
        }

        [Test]
        public void ThePublicEnumsTakeTheHeadersNumbers()
        {
            Assert.AreEqual(NativeMethods.OD_CONFLICT_RENAME, (int)ConflictBehavior.Rename);
            Assert.AreEqual(NativeMethods.OD_JOB_UNKNOWN, (int)JobState.Unknown);
            Assert.AreEqual(NativeMethods.OD_LOG_DEBUG, (int)OneDriveLogLevel.Debug);
            Assert.AreEqual(NativeMethods.OD_HASH_SHA256, (int)HashChecks.Sha256);
        }
    }
}
