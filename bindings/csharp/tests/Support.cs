// Test support: a standalone onedrive-emulator per test run (started by a
// SetUpFixture, addresses parsed from its stdout lines), its admin path, and
// helpers that poll with a deadline instead of sleeping a fixed time.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    /// <summary>A running standalone emulator.</summary>
    public sealed class Emulator : IDisposable
    {
        public const string Token = "cs-test-token";
        private readonly Process proc;

        public string BaseUrl { get; private set; }
        public string ApiOrigin { get; private set; }
        public string MonitorOrigin { get; private set; }
        public string Profile { get; private set; }
        public string DefaultDriveId { get; private set; }
        /// <summary>The admin path's own bearer token (printed as admin_token=).</summary>
        public string AdminToken { get; private set; }
        /// <summary>The CA the emulator made at start (PEM file, printed as ca_file=):
        /// it serves HTTPS, and clients trust this CA.</summary>
        public string CaFile { get; private set; }

        public static string Binary
        {
            get
            {
                string env = Environment.GetEnvironmentVariable("ONEDRIVE_EMULATOR");
                if (string.IsNullOrEmpty(env))
                    throw new InvalidOperationException("set ONEDRIVE_EMULATOR to the onedrive-emulator binary (run_tests.sh does)");
                return env;
            }
        }

        public Emulator(params string[] extraArgs)
        {
            var psi = new ProcessStartInfo(Binary,
                "--host 127.0.0.1 --port 0 --monitor-port 0 --token " + Token + " " + string.Join(" ", extraArgs))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
                CreateNoWindow = true,
            };
            var lines = new BlockingCollection<string>();
            proc = new Process { StartInfo = psi };
            proc.OutputDataReceived += (s, e) =>
            {
                if (e.Data == null) { lines.CompleteAdding(); return; }
                if (!lines.IsAddingCompleted) lines.Add(e.Data);
            };
            proc.Start();
            proc.BeginOutputReadLine();
            var info = new Dictionary<string, string>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!info.ContainsKey("default_drive_id"))
            {
                var left = deadline - DateTime.UtcNow;
                string line;
                if (left <= TimeSpan.Zero || !lines.TryTake(out line, left))
                {
                    Dispose();
                    throw new InvalidOperationException(Binary + " did not print its addresses (exited: " + proc.HasExited + ")");
                }
                int eq = line.IndexOf('=');
                if (eq > 0) info[line.Substring(0, eq)] = line.Substring(eq + 1);
            }
            BaseUrl = info["base_url"];
            ApiOrigin = BaseUrl.Substring(0, BaseUrl.Length - "/v1.0".Length);
            MonitorOrigin = info["monitor_origin"];
            CaFile = info["ca_file"];
            Profile = info["profile"];
            DefaultDriveId = info["default_drive_id"];
            AdminToken = info["admin_token"];
        }

        public OneDriveClient NewClient()
        {
            var c = new OneDriveClient(BaseUrl, Token);
            c.AddCaFile(CaFile);
            return c;
        }

        public void Dispose()
        {
            try
            {
                if (!proc.HasExited)
                {
                    proc.Kill();
                    proc.WaitForExit(20000);
                }
            }
            catch (InvalidOperationException) { }
            proc.Dispose();
        }

        // ---- admin path ----

        /// <summary>One admin call, made by curl trusting the emulator's CA: the
        /// emulator's certificates are ECDSA, which mono's TLS cannot verify
        /// (and its HttpWebRequest proved flaky against a server that closes
        /// connections at will).</summary>
        public string Admin(string method, string path, byte[] body = null, string contentType = "application/json")
        {
            var psi = new ProcessStartInfo("curl",
                "-sS --max-time 30 --cacert \"" + CaFile + "\" -X " + method +
                " -H \"Authorization: Bearer " + AdminToken + "\" -H \"Content-Type: " + contentType + "\"" +
                " --data-binary @- -w \"\\n%{http_code}\" \"" + ApiOrigin + "/_emulator" + path + "\"")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            using (var p = Process.Start(psi))
            {
                var stdin = p.StandardInput.BaseStream;
                if (body != null) stdin.Write(body, 0, body.Length);
                stdin.Close();
                var output = new MemoryStream();
                p.StandardOutput.BaseStream.CopyTo(output);
                string err = p.StandardError.ReadToEnd();
                p.WaitForExit();
                string text = Encoding.UTF8.GetString(output.ToArray());
                int nl = text.LastIndexOf('\n');
                Assert.That(p.ExitCode == 0 && nl >= 0, Is.True, "curl " + method + " " + path + ": " + err);
                int code = int.Parse(text.Substring(nl + 1));
                string respBody = text.Substring(0, nl);
                if (code < 200 || code > 299)
                    throw new InvalidOperationException(method + " /_emulator" + path + ": HTTP " + code + " " + respBody);
                return respBody;
            }
        }

        public string Admin(string method, string path, string json)
        {
            return Admin(method, path, Encoding.UTF8.GetBytes(json));
        }

        public void SetJobConfig(string json) { Admin("PUT", "/job", json); }
        public void ResetJobConfig() { Admin("PUT", "/job", "{}"); }
        public void AddFault(string json) { Admin("POST", "/faults", json); }
        public void ClearFaults() { Admin("DELETE", "/faults"); }
        public void ClearRequests() { Admin("DELETE", "/requests"); }

        /// <summary>Serves bytes on the monitor origin; returns their URL (a url_upload source).</summary>
        public string ServeStatic(string name, byte[] body)
        {
            string json = Admin("PUT", "/static/" + name, body, "application/octet-stream");
            var m = Regex.Match(json, "\"url\"\\s*:\\s*\"([^\"]+)\"");
            Assert.IsTrue(m.Success, "no url in " + json);
            return m.Groups[1].Value;
        }

        public sealed class LoggedRequest
        {
            public string Origin, Method, Path;
            public int Status;
            public bool Authorization;
            public long BodyBytes;
        }

        /// <summary>The request log (objects are flat: no nesting to parse).</summary>
        public List<LoggedRequest> Requests()
        {
            string json = Admin("GET", "/requests");
            var list = new List<LoggedRequest>();
            foreach (Match m in Regex.Matches(json, "\\{[^{}]*\\}"))
            {
                string o = m.Value;
                list.Add(new LoggedRequest
                {
                    Origin = Str(o, "origin"),
                    Method = Str(o, "method"),
                    Path = Str(o, "path"),
                    Status = (int)Num(o, "status"),
                    Authorization = Regex.IsMatch(o, "\"authorization\"\\s*:\\s*true"),
                    BodyBytes = Num(o, "body_bytes"),
                });
            }
            return list;
        }

        private static string Str(string o, string key)
        {
            var m = Regex.Match(o, "\"" + key + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
            return m.Success ? m.Groups[1].Value : null;
        }

        private static long Num(string o, string key)
        {
            var m = Regex.Match(o, "\"" + key + "\"\\s*:\\s*(\\d+)");
            return m.Success ? long.Parse(m.Groups[1].Value) : -1;
        }
    }

    /// <summary>One emulator for the whole run (NUnit 2.6 SetUpFixture: runs
    /// around every fixture in this namespace).</summary>
    [SetUpFixture]
    public class EmulatorSetUp
    {
        public static Emulator Emu { get; private set; }

        [SetUp]
        public void Start() { Emu = new Emulator(); }

        [TearDown]
        public void Stop()
        {
            if (Emu != null) Emu.Dispose();
            Emu = null;
        }
    }

    /// <summary>A fixture on the shared emulator: a fresh client per test,
    /// disposed after it, and the emulator's faults and job settings reset.</summary>
    public abstract class EmulatorTest
    {
        protected Emulator emu;
        protected OneDriveClient client;

        [SetUp]
        public void SetUp()
        {
            emu = EmulatorSetUp.Emu;
            client = emu.NewClient();
        }

        [TearDown]
        public void TearDown()
        {
            client.Dispose();
            emu.ClearFaults();
            emu.ResetJobConfig();
        }
    }

    public static class Util
    {
        private static int counter;

        /// <summary>A fresh folder path per test, so tests never see each other's files.</summary>
        public static string NewFolder(string what)
        {
            return "/cs-" + what + "-" + Interlocked.Increment(ref counter) + "-" + Guid.NewGuid().ToString("N").Substring(0, 8);
        }

        public static byte[] Bytes(int n, int seed = 1)
        {
            var b = new byte[n];
            new Random(seed).NextBytes(b);
            return b;
        }

        /// <summary>Polls until <paramref name="cond"/> holds or the deadline
        /// passes (then fails): never a fixed sleep standing for a condition.</summary>
        public static void Eventually(Func<bool> cond, string what, double seconds = 60)
        {
            var sw = Stopwatch.StartNew();
            int delay = 5;
            while (!cond())
            {
                if (sw.Elapsed.TotalSeconds > seconds) Assert.Fail("timed out after " + seconds + " s waiting for " + what);
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 100);
            }
        }

        public static string HeaderPath
        {
            get
            {
                string env = Environment.GetEnvironmentVariable("ONEDRIVE_HEADER");
                if (string.IsNullOrEmpty(env))
                    throw new InvalidOperationException("set ONEDRIVE_HEADER to include/onedrive.h (run_tests.sh does)");
                return env;
            }
        }
    }

    /// <summary>An IProgress that records every report synchronously, on the
    /// reporting thread (Progress&lt;T&gt; would post them to the pool).</summary>
    public class Recorder<T> : IProgress<T>
    {
        private readonly object gate = new object();
        private readonly List<T> reports = new List<T>();
        private readonly Action<T> onReport;
        public readonly ConcurrentBag<int> Threads = new ConcurrentBag<int>();

        public Recorder(Action<T> onReport = null) { this.onReport = onReport; }

        public void Report(T value)
        {
            lock (gate) reports.Add(value);
            Threads.Add(Thread.CurrentThread.ManagedThreadId);
            if (onReport != null) onReport(value);
        }

        public List<T> Reports
        {
            get { lock (gate) return new List<T>(reports); }
        }
    }

    /// <summary>A transfer's reports (bytes).</summary>
    public sealed class Recorder : Recorder<OneDriveProgress>
    {
        public Recorder(Action<OneDriveProgress> onReport = null) : base(onReport) { }
    }

    /// <summary>A job wait's reports (percent, 0–100).</summary>
    public sealed class PercentRecorder : Recorder<double>
    {
        public PercentRecorder(Action<double> onReport = null) : base(onReport) { }
    }
}
