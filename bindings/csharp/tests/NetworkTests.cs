// How a client reaches the service: extra trusted CAs, a proxy, the upload
// rate cap, and the library's log lines through OneDriveClient.Log. The TLS
// test runs its own HTTPS server on loopback (`openssl s_server` with a CA
// and a certificate made by the `openssl` command), the proxy tests their
// own CONNECT proxy; the emulator is the SetUpFixture's.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class NetworkTests : EmulatorTest
    {
        /// <summary>Records the lines a client logs.</summary>
        private sealed class Lines
        {
            public readonly ConcurrentQueue<KeyValuePair<OneDriveLogLevel, string>> All =
                new ConcurrentQueue<KeyValuePair<OneDriveLogLevel, string>>();

            public void Add(OneDriveLogLevel level, string message)
            {
                All.Enqueue(new KeyValuePair<OneDriveLogLevel, string>(level, message));
            }

            public bool Has(OneDriveLogLevel level, params string[] parts)
            {
                return All.Any(l => l.Key == level && parts.All(p => l.Value.Contains(p)));
            }

            public override string ToString()
            {
                return string.Join("\n", All.Select(l => l.Key + " " + l.Value));
            }
        }

        private static int FreePort()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }

        private static string HostPort(string origin)
        {
            return new Uri(origin).Authority;
        }

        // ---- log ----

        [Test]
        public void LogLinesArriveWithTheirLevelsAndNoSecret()
        {
            string folder = Util.NewFolder("log");
            var lines = new Lines();
            Assert.AreEqual(OneDriveLogLevel.Info, client.LogLevel);
            client.Log += lines.Add;
            client.SetLogLevel(OneDriveLogLevel.Debug);
            DriveItem item = client.Upload(folder, "logged.txt", Util.Bytes(4096));
            string monitorPath;
            using (OneDriveJob job = client.Copy(item.Id, folder, "logged-copy.txt"))
            {
                client.WaitJob(job, TimeSpan.FromMinutes(1));
                monitorPath = new Uri(job.MonitorUrl).PathAndQuery.TrimStart('/');
                StringAssert.DoesNotContain(monitorPath, job.ToString());
            }
            Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/no-such-file.txt"));

            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "PUT ", "logged.txt", "-> 20"), lines.ToString());
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "POST ", "/copy", "-> 202"), lines.ToString());
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Debug, "job look"), lines.ToString());
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "GET ", "no-such-file.txt", "-> 404"), lines.ToString());
            Assert.IsNotEmpty(monitorPath);
            foreach (var l in lines.All)
            {
                Assert.IsTrue(Enum.IsDefined(typeof(OneDriveLogLevel), l.Key), l.Value);
                StringAssert.DoesNotContain(Emulator.Token, l.Value);
                StringAssert.DoesNotContain("Bearer", l.Value);
                StringAssert.DoesNotContain("tempauth", l.Value);
                StringAssert.DoesNotContain("?", l.Value);
                StringAssert.DoesNotContain(monitorPath, l.Value);
                StringAssert.DoesNotContain("\n", l.Value);
            }
        }

        [Test]
        public void LinesComeOnlyAtTheLevelAndWhileSubscribed()
        {
            string folder = Util.NewFolder("loglevel");
            var lines = new Lines();
            client.SetLogLevel(OneDriveLogLevel.Warning);
            client.Log += lines.Add;
            client.Upload(folder, "quiet.txt", Util.Bytes(4096));
            Assert.IsEmpty(lines.All, "a successful upload makes no warning: " + lines);
            client.SetLogLevel(OneDriveLogLevel.Info);
            Assert.AreEqual(OneDriveLogLevel.Info, client.LogLevel);
            client.Upload(folder, "loud.txt", Util.Bytes(4096));
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "PUT ", "loud.txt"), lines.ToString());
            client.Log -= lines.Add;
            int before = lines.All.Count;
            client.Upload(folder, "after.txt", Util.Bytes(4096));
            Assert.AreEqual(before, lines.All.Count, "no line after the handler was removed");
            client.Log -= lines.Add; // removing twice is harmless
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetLogLevel((OneDriveLogLevel)0));
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetLogLevel((OneDriveLogLevel)5));
        }

        [Test]
        public void AThrowingHandlerNeverReachesNativeCode()
        {
            string folder = Util.NewFolder("logthrow");
            var lines = new Lines();
            client.Log += (level, message) => { throw new InvalidOperationException("a broken handler"); };
            client.Log += lines.Add;
            Assert.AreEqual(7L, client.Upload(folder, "h.txt", Encoding.UTF8.GetBytes("handler")).Size);
            Assert.Throws<OneDriveNotFoundException>(() => client.GetItem("/no-such-file"));
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "PUT ", "h.txt"), "the other handler still runs: " + lines);
        }

        [Test]
        public void HandlersMaySubscribeAndUnsubscribeFromInsideAHandler()
        {
            string folder = Util.NewFolder("logreenter");
            var lines = new Lines();
            OneDriveLogHandler once = null;
            int calls = 0;
            once = (level, message) =>
            {
                if (Interlocked.Increment(ref calls) != 1) return;
                client.Log -= once;            // from inside a callback: no wait, no deadlock
                client.Log += lines.Add;
                client.SetLogLevel(OneDriveLogLevel.Debug);
            };
            client.Log += once;
            var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
                client.Upload(folder, "r" + i + ".txt", Util.Bytes(4096, i)))).ToList();
            threads.ForEach(t => t.Start());
            foreach (var t in threads) Assert.IsTrue(t.Join(TimeSpan.FromSeconds(60)), "an upload hung");
            client.Upload(folder, "last.txt", Util.Bytes(100));
            Assert.IsTrue(lines.Has(OneDriveLogLevel.Info, "PUT ", "last.txt"), lines.ToString());
            Assert.AreEqual(OneDriveLogLevel.Debug, client.LogLevel);
        }

        [Test]
        public void SubscribingToADisposedClientThrows()
        {
            var c = emu.NewClient();
            c.Dispose();
            var lines = new Lines();
            Assert.Throws<ObjectDisposedException>(() => c.Log += lines.Add);
            c.Log -= lines.Add; // harmless
            Assert.Throws<ObjectDisposedException>(() => c.SetProxy(null));
        }

        // ---- trust ----

        [Test]
        public void ABadPemIsAnInvalidArgument()
        {
            foreach (string bad in new[] { "hello", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" })
            {
                var e = Assert.Throws<OneDriveInvalidArgumentException>(() => client.AddCaPem(bad));
                Assert.AreEqual(OneDriveStatus.InvalidArgument, e.Status);
                Assert.Throws<OneDriveInvalidArgumentException>(() => client.AddCaPem(Encoding.ASCII.GetBytes(bad)));
            }
            Assert.Throws<ArgumentNullException>(() => client.AddCaPem((byte[])null));
            Assert.Throws<ArgumentNullException>(() => client.AddCaPem((string)null));
            Assert.IsTrue(client.GetItem("/").IsFolder);
        }

        [Test]
        public void AMissingCaFileIsAnIOError()
        {
            string dir = Path.Combine(Path.GetTempPath(), "od-ca-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            try
            {
                var e = Assert.Throws<OneDriveIOException>(() => client.AddCaFile(Path.Combine(dir, "no-such-ca.pem")));
                Assert.AreEqual(OneDriveStatus.Io, e.Status);
                File.WriteAllText(Path.Combine(dir, "junk.pem"), "not a certificate\n");
                Assert.Throws<OneDriveInvalidArgumentException>(() => client.AddCaFile(Path.Combine(dir, "junk.pem")));
                Assert.Throws<ArgumentNullException>(() => client.AddCaFile(null));
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void AnUntrustedCertificateIsATlsErrorUntilItsCaIsAdded()
        {
            using (var tls = TlsServer.Start())
            using (var c = new OneDriveClient(tls.BaseUrl, "t"))
            {
                var lines = new Lines();
                c.Log += lines.Add;
                c.SetRetry(3, TimeSpan.FromSeconds(1));
                var e = Assert.Throws<OneDriveTlsException>(() => c.GetItem("/x"));
                Assert.AreEqual(OneDriveStatus.Tls, e.Status);
                Assert.IsInstanceOf<OneDriveNetworkException>(e);
                Assert.IsFalse(lines.All.Any(l => l.Value.StartsWith("retrying")), "a TLS failure is never retried: " + lines);
                Assert.IsTrue(lines.All.Any(l => l.Key == OneDriveLogLevel.Error), lines.ToString());

                c.AddCaFile(tls.CaFile); // for connections opened afterwards
                var after = Assert.Catch<OneDriveException>(() => c.GetItem("/x")); // the server's own (HTML) answer
                Assert.IsNotInstanceOf<OneDriveTlsException>(after, after.ToString());
                Assert.IsNotInstanceOf<OneDriveNetworkException>(after, after.ToString());
            }
        }

        [Test]
        public void ACaGivenAsPemTextIsTrustedToo()
        {
            using (var tls = TlsServer.Start())
            using (var c = new OneDriveClient(tls.BaseUrl, "t"))
            {
                c.AddCaPem(File.ReadAllText(tls.CaFile));
                var after = Assert.Catch<OneDriveException>(() => c.GetItem("/x"));
                Assert.IsNotInstanceOf<OneDriveNetworkException>(after, after.ToString());
            }
        }

        // ---- proxy ----

        [Test]
        public void SetProxyChecksTheUrlAndNeverRepeatsIt()
        {
            foreach (string bad in new[] { "ftp://x", "ftp://user:SECRET@127.0.0.1:1", "user:SECRET@h:1", "" })
            {
                var e = Assert.Throws<OneDriveInvalidArgumentException>(() => client.SetProxy(bad), bad);
                StringAssert.DoesNotContain("SECRET", e.Message);
                StringAssert.DoesNotContain("SECRET", e.ToString());
            }
            client.SetProxy(null);
            Assert.IsTrue(client.GetItem("/").IsFolder);
        }

        [Test]
        public void AProxyNobodyListensOnIsANetworkError()
        {
            var lines = new Lines();
            client.Log += lines.Add;
            client.SetRetry(1, TimeSpan.Zero);
            client.SetProxy("http://127.0.0.1:" + FreePort());
            var e = Assert.Throws<OneDriveNetworkException>(() => client.GetItem("/")); // exactly: not Tls, not Proxy
            Assert.AreEqual(OneDriveStatus.Network, e.Status);
            Assert.IsTrue(lines.All.Any(l => l.Key == OneDriveLogLevel.Error), lines.ToString());
            Assert.IsTrue(lines.All.Any(l => l.Key == OneDriveLogLevel.Warning), lines.ToString());
            client.SetProxy(null);
            Assert.IsTrue(client.GetItem("/").IsFolder);
        }

        [Test]
        public void AProxyCarriesEveryRequestWithItsCredentials()
        {
            string folder = Util.NewFolder("proxy");
            using (var proxy = new FakeProxy(200))
            {
                client.SetProxy(proxy.Url("user:pa55"));
                DriveItem item = client.Upload(folder, "via-proxy.txt", Encoding.UTF8.GetBytes("through the proxy"));
                using (OneDriveJob job = client.Copy(item.Id, folder, "via-proxy-2.txt"))
                    Assert.AreEqual(item.Size, client.WaitJob(job, TimeSpan.FromMinutes(1)).Size);
                var targets = proxy.Connects.Select(c => c.Key).ToList();
                CollectionAssert.Contains(targets, HostPort(emu.ApiOrigin));
                CollectionAssert.Contains(targets, HostPort(emu.MonitorOrigin));
                string want = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("user:pa55"));
                Assert.IsTrue(proxy.Connects.All(c => c.Value == want), string.Join(", ", proxy.Connects.Select(c => c.Value)));
            }
        }

        [Test]
        public void AProxyThatRefusesTheCredentialsIsAProxyError()
        {
            var lines = new Lines();
            client.Log += lines.Add;
            using (var proxy = new FakeProxy(407))
            {
                client.SetProxy(proxy.Url("user:WRONGPW"));
                var e = Assert.Throws<OneDriveProxyException>(() => client.GetItem("/"));
                Assert.AreEqual(OneDriveStatus.Proxy, e.Status);
                Assert.IsInstanceOf<OneDriveNetworkException>(e);
                StringAssert.DoesNotContain("WRONGPW", e.ToString());
                Assert.AreEqual(1, proxy.Connects.Count, "a refusal is not retried");
            }
            Assert.IsFalse(lines.All.Any(l => l.Value.Contains("WRONGPW")), lines.ToString());
        }

        // ---- upload rate ----

        [Test]
        public void SetUploadRateTakesZeroAndLargeNumbersAndRefusesNegativeOnes()
        {
            client.SetUploadRate(0);
            client.SetUploadRate(1000000000000L);
            client.SetUploadRate(long.MaxValue);
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetUploadRate(-1));
            client.SetUploadRate(0);
        }

        [Test]
        public void AnUploadRateCapHoldsAnUploadBack()
        {
            string folder = Util.NewFolder("rate");
            client.SetUploadRate(40000);
            var sw = Stopwatch.StartNew();
            Assert.AreEqual(60000L, client.Upload(folder, "slow.bin", new byte[60000]).Size);
            Assert.GreaterOrEqual(sw.Elapsed.TotalSeconds, 1.0, "the first 4 KB go at once, the rest at 40 kB/s");
            client.SetUploadRate(0);
            Assert.AreEqual(60000L, client.Upload(folder, "fast.bin", new byte[60000]).Size);
        }

        // ---- helpers ----

        /// <summary>An HTTP proxy that knows only CONNECT: answers <c>answer</c>
        /// (200: tunnels the bytes; else that status and closes) and records
        /// each target with its Proxy-Authorization.</summary>
        private sealed class FakeProxy : IDisposable
        {
            private readonly TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
            private readonly int answer;
            private readonly Thread acceptor;
            private volatile bool stopped;
            private readonly object gate = new object();
            private readonly List<KeyValuePair<string, string>> connects = new List<KeyValuePair<string, string>>();

            public FakeProxy(int answer)
            {
                this.answer = answer;
                listener.Start();
                acceptor = new Thread(Accept) { IsBackground = true };
                acceptor.Start();
            }

            public int Port { get { return ((IPEndPoint)listener.LocalEndpoint).Port; } }

            public string Url(string credentials)
            {
                return "http://" + credentials + "@127.0.0.1:" + Port;
            }

            public List<KeyValuePair<string, string>> Connects
            {
                get { lock (gate) return new List<KeyValuePair<string, string>>(connects); }
            }

            private void Accept()
            {
                while (!stopped)
                {
                    TcpClient conn;
                    try { conn = listener.AcceptTcpClient(); }
                    catch (Exception) { return; }
                    new Thread(() => Serve(conn)) { IsBackground = true }.Start();
                }
            }

            private void Serve(TcpClient conn)
            {
                TcpClient upstream = null;
                try
                {
                    NetworkStream s = conn.GetStream();
                    var head = new List<byte>();
                    while (head.Count < 65536)
                    {
                        int b = s.ReadByte();
                        if (b < 0) return;
                        head.Add((byte)b);
                        int n = head.Count;
                        if (n >= 4 && head[n - 4] == '\r' && head[n - 3] == '\n' && head[n - 2] == '\r' && head[n - 1] == '\n') break;
                    }
                    string[] lines = Encoding.ASCII.GetString(head.ToArray()).Split(new[] { "\r\n" }, StringSplitOptions.None);
                    string[] first = lines[0].Split(' ');
                    string auth = lines.Skip(1).Where(l => l.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))
                        .Select(l => l.Substring(l.IndexOf(':') + 1).Trim()).FirstOrDefault();
                    lock (gate) connects.Add(new KeyValuePair<string, string>(first[1], auth));
                    if (first[0] != "CONNECT" || answer != 200)
                    {
                        byte[] no = Encoding.ASCII.GetBytes("HTTP/1.1 " + (first[0] != "CONNECT" ? 405 : answer)
                            + " No\r\nProxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        s.Write(no, 0, no.Length);
                        return;
                    }
                    int colon = first[1].LastIndexOf(':');
                    upstream = new TcpClient();
                    upstream.Connect(first[1].Substring(0, colon), int.Parse(first[1].Substring(colon + 1)));
                    byte[] ok = Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n");
                    s.Write(ok, 0, ok.Length);
                    NetworkStream u = upstream.GetStream();
                    var back = new Thread(() => Pipe(u, s)) { IsBackground = true };
                    back.Start();
                    Pipe(s, u);
                    back.Join(30000);
                }
                catch (Exception) { }
                finally
                {
                    conn.Close();
                    if (upstream != null) upstream.Close();
                }
            }

            private static void Pipe(Stream from, Stream to)
            {
                var buf = new byte[65536];
                try
                {
                    int n;
                    while ((n = from.Read(buf, 0, buf.Length)) > 0) to.Write(buf, 0, n);
                }
                catch (Exception) { }
                try { from.Close(); } catch (Exception) { }
                try { to.Close(); } catch (Exception) { }
            }

            public void Dispose()
            {
                stopped = true;
                listener.Stop();
                acceptor.Join(5000);
            }
        }

        /// <summary>`openssl s_server` on loopback with a certificate for
        /// 127.0.0.1 signed by a test CA (CaFile) that no system trusts.</summary>
        private sealed class TlsServer : IDisposable
        {
            private readonly Process proc;
            private readonly string dir;
            public string BaseUrl { get; private set; }
            public string CaFile { get { return Path.Combine(dir, "ca.pem"); } }

            private TlsServer(Process proc, string dir, int port)
            {
                this.proc = proc;
                this.dir = dir;
                BaseUrl = "https://127.0.0.1:" + port + "/v1.0";
            }

            private static void OpenSsl(string dir, string args)
            {
                var psi = new ProcessStartInfo("openssl", args)
                {
                    UseShellExecute = false, WorkingDirectory = dir,
                    RedirectStandardOutput = true, RedirectStandardError = true, CreateNoWindow = true,
                };
                using (var p = Process.Start(psi))
                {
                    string err = p.StandardError.ReadToEnd();
                    p.StandardOutput.ReadToEnd();
                    p.WaitForExit();
                    if (p.ExitCode != 0) throw new InvalidOperationException("openssl " + args + ": " + err);
                }
            }

            public static TlsServer Start()
            {
                string dir = Path.Combine(Path.GetTempPath(), "od-tls-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(dir);
                try
                {
                    OpenSsl(dir, "version");
                }
                catch (Exception)
                {
                    Directory.Delete(dir, true);
                    Assert.Ignore("the openssl command makes the test certificates and serves them");
                }
                const string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
                OpenSsl(dir, "req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=od-test-ca"
                    + " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
                OpenSsl(dir, "req " + ec + " -keyout leaf.key -out leaf.csr -subj /CN=127.0.0.1");
                File.WriteAllText(Path.Combine(dir, "leaf.ext"),
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
                    + "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
                OpenSsl(dir, "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 -extfile leaf.ext");
                int port = FreePort();
                var psi = new ProcessStartInfo("openssl",
                    "s_server -accept 127.0.0.1:" + port + " -cert leaf.pem -key leaf.key -www -quiet")
                {
                    UseShellExecute = false, WorkingDirectory = dir,
                    RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
                    CreateNoWindow = true,
                };
                var proc = Process.Start(psi);
                proc.OutputDataReceived += (s, e) => { };
                proc.ErrorDataReceived += (s, e) => { };
                proc.BeginOutputReadLine();
                proc.BeginErrorReadLine();
                var server = new TlsServer(proc, dir, port);
                Util.Eventually(() =>
                {
                    if (proc.HasExited) throw new InvalidOperationException("openssl s_server exited: " + proc.ExitCode);
                    try
                    {
                        using (var probe = new TcpClient()) { probe.Connect(IPAddress.Loopback, port); }
                        return true;
                    }
                    catch (SocketException) { return false; }
                }, "openssl s_server to listen", 30);
                return server;
            }

            public void Dispose()
            {
                try
                {
                    if (!proc.HasExited)
                    {
                        proc.Kill();
                        proc.WaitForExit(10000);
                    }
                }
                catch (InvalidOperationException) { }
                proc.Dispose();
                try { Directory.Delete(dir, true); } catch (IOException) { }
            }
        }
    }
}
