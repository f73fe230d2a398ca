// Failures: each od_status the emulator can produce, with the last-error
// detail (HTTP status, Graph code, request-id, Retry-After) read on the
// calling thread.
using System;
using System.IO;
using System.Linq;
using System.Threading;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class ErrorTests : EmulatorTest
    {
        [Test]
        public void UploadConflictIs409NameAlreadyExists()
        {
            string folder = Util.NewFolder("conflict");
            client.Upload(folder, "taken.txt", Util.Bytes(5));
            var e = Assert.Throws<OneDriveConflictException>(
                () => client.Upload(folder, "taken.txt", Util.Bytes(6), ConflictBehavior.Fail));
            Assert.AreEqual(OneDriveStatus.Conflict, e.Status);
            Assert.AreEqual(409, e.HttpStatus);
            Assert.AreEqual("nameAlreadyExists", e.Code);
            Assert.IsNotNullOrEmpty(e.RequestId);
            Assert.IsNotNullOrEmpty(e.Message);
            Assert.IsNull(e.RetryAfter);
            // rename keeps both
            DriveItem renamed = client.Upload(folder, "taken.txt", Util.Bytes(7), ConflictBehavior.Rename);
            Assert.AreNotEqual("taken.txt", renamed.Name);
        }

        [Test]
        public void CopyConflictIsRefusedAtOnce()
        {
            string folder = Util.NewFolder("copyconflict");
            client.Upload(folder, "a.txt", Util.Bytes(5));
            client.Upload(folder, "b.txt", Util.Bytes(5));
            var e = Assert.Throws<OneDriveConflictException>(
                () => client.Copy(folder + "/a.txt", folder, "b.txt", ConflictBehavior.Fail));
            Assert.AreEqual(409, e.HttpStatus);
            Assert.AreEqual("nameAlreadyExists", e.Code);
        }

        [Test]
        public void NotFound()
        {
            var e = Assert.Throws<OneDriveNotFoundException>(() => client.GetItem("/no such folder/ünïcödé.txt"));
            Assert.AreEqual(OneDriveStatus.NotFound, e.Status);
            Assert.AreEqual(404, e.HttpStatus);
            Assert.AreEqual("itemNotFound", e.Code);
            Assert.IsNotNullOrEmpty(e.RequestId);
            Assert.Throws<OneDriveNotFoundException>(
                () => client.Copy("/no/such/source.bin", "/", "x.bin"));
        }

        [Test]
        public void InvalidNameIsRefusedBeforeAnyRequest()
        {
            string folder = Util.NewFolder("badname");
            emu.ClearRequests();
            foreach (string bad in new[] { "a:b.txt", "a/b", "what?", "x*y", "" })
            {
                var e = Assert.Throws<OneDriveInvalidNameException>(
                    () => client.Upload(folder, bad, Util.Bytes(1)), "name '" + bad + "'");
                Assert.AreEqual(OneDriveStatus.InvalidName, e.Status);
                Assert.AreEqual(0, e.HttpStatus);
                Assert.IsNotNullOrEmpty(e.Message);
            }
            Assert.IsEmpty(emu.Requests().Where(r => r.Origin != "admin").ToList(), "no request reached the service");
        }

        [Test]
        public void ArgumentsAreCheckedOnTheManagedSide()
        {
            Assert.Throws<ArgumentException>(() => client.GetItem("/a\0b"));
            Assert.Throws<ArgumentNullException>(() => client.GetItem(null));
            Assert.Throws<ArgumentNullException>(() => client.Upload("/", "x", (byte[])null));
            Assert.Throws<ArgumentException>(() => client.GetItem("/lone \ud800 surrogate"));
        }

        [Test]
        public void InvalidArguments()
        {
            var e = Assert.Throws<OneDriveInvalidArgumentException>(() => client.SetUploadOptions(4096, 1000));
            Assert.AreEqual(OneDriveStatus.InvalidArgument, e.Status);
            Assert.Throws<OneDriveInvalidArgumentException>(() => client.GetItem("/", drive: "/not/a/drive/prefix"));
            Assert.Throws<OneDriveInvalidArgumentException>(() => new OneDriveClient("not a url", "t"));
        }

        [Test]
        public void TooLargeForOnePut()
        {
            // Raise the client's one-PUT limit above the service's (4 MiB): the
            // service answers 413. (Below the client's limit a large buffer
            // goes through an upload session instead.)
            client.SetUploadOptions(8 * 1024 * 1024, 327680);
            var e = Assert.Throws<OneDriveTooLargeException>(
                () => client.Upload(Util.NewFolder("large"), "big.bin", new byte[4 * 1024 * 1024 + 1]));
            Assert.AreEqual(413, e.HttpStatus);
            Assert.AreEqual(OneDriveStatus.TooLarge, e.Status);
        }

        [Test]
        public void ThrottledCarriesRetryAfter()
        {
            string folder = Util.NewFolder("throttle");
            client.Upload(folder, "f.txt", Util.Bytes(1));
            client.SetRetry(1, TimeSpan.Zero);
            emu.AddFault("{\"origin\":\"api\",\"path_contains\":\"" + folder.Substring(1) + "\",\"times\":{\"next\":1},"
                + "\"action\":{\"status\":{\"status\":429,\"retry_after\":7}}}");
            var e = Assert.Throws<OneDriveThrottledException>(() => client.GetItem(folder + "/f.txt"));
            Assert.AreEqual(429, e.HttpStatus);
            Assert.AreEqual(TimeSpan.FromSeconds(7), e.RetryAfter);
            // the rule is spent: the next call succeeds
            Assert.AreEqual("f.txt", client.GetItem(folder + "/f.txt").Name);
        }

        [Test]
        public void TransientFailuresAreRetried()
        {
            string folder = Util.NewFolder("retry");
            client.Upload(folder, "f.txt", Util.Bytes(1));
            client.SetRetry(4, TimeSpan.FromSeconds(5));
            emu.AddFault("{\"origin\":\"api\",\"path_contains\":\"" + folder.Substring(1) + "\",\"times\":{\"next\":2},"
                + "\"action\":{\"status\":{\"status\":503,\"retry_after\":0}}}");
            Assert.AreEqual("f.txt", client.GetItem(folder + "/f.txt").Name);
        }

        [Test]
        public void ServiceErrorAfterRetries()
        {
            string folder = Util.NewFolder("5xx");
            client.Upload(folder, "f.txt", Util.Bytes(1));
            client.SetRetry(2, TimeSpan.FromSeconds(5));
            emu.AddFault("{\"origin\":\"api\",\"path_contains\":\"" + folder.Substring(1) + "\",\"times\":{\"next\":5},"
                + "\"action\":{\"status\":{\"status\":500,\"retry_after\":0}}}");
            var e = Assert.Throws<OneDriveServiceException>(() => client.GetItem(folder + "/f.txt"));
            Assert.AreEqual(500, e.HttpStatus);
        }

        [Test]
        public void NetworkErrorHasNoHttpStatus()
        {
            // Port 1 on loopback: nothing listens there, the connection is refused.
            using (var c = new OneDriveClient("http://127.0.0.1:1/v1.0", "t"))
            {
                c.SetRetry(1, TimeSpan.Zero);
                var e = Assert.Throws<OneDriveNetworkException>(() => c.GetItem("/"));
                Assert.AreEqual(0, e.HttpStatus);
                Assert.IsNotNullOrEmpty(e.Message);
            }
        }

        [TestCase("status")]
        [TestCase("http500")]
        public void FailedJob(string mode)
        {
            string folder = Util.NewFolder("jobfail");
            client.Upload(folder, "src.bin", Util.Bytes(1000));
            emu.SetJobConfig("{\"fail\":\"" + mode + "\"}");
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "never.bin"))
            {
                var e = Assert.Throws<OneDriveJobFailedException>(() => client.WaitJob(job));
                Assert.AreEqual(OneDriveStatus.JobFailed, e.Status);
                Assert.IsNotNullOrEmpty(e.Message);
                Assert.AreEqual(JobState.Failed, job.LastState);
                JobStatus status = client.PollJob(job);
                Assert.AreEqual(JobState.Failed, status.State);
                Assert.IsNotNull(status.Error);
                Assert.AreEqual(OneDriveStatus.JobFailed, status.Error.Status);
                Assert.Throws<OneDriveInvalidStateException>(() => job.GetItem());
            }
        }

        [Test]
        public void UrlUploadIsNotSupportedOnBusiness()
        {
            using (var business = new Emulator("--profile", "business"))
            using (var c = business.NewClient())
            {
                Assert.AreEqual("business", business.Profile);
                string source = business.ServeStatic("nope.bin", Util.Bytes(10));
                var e = Assert.Throws<OneDriveNotSupportedException>(() => c.UrlUpload("/", "x.bin", source));
                Assert.AreEqual(OneDriveStatus.NotSupported, e.Status);
                Assert.IsNotNullOrEmpty(e.Message);
            }
        }

        private sealed class FailingStream : MemoryStream
        {
            public FailingStream() : base(new byte[100]) { }
            public override int Read(byte[] buffer, int offset, int count)
            {
                throw new IOException("disk on fire");
            }
        }

        [Test]
        public void StreamExceptionIsRethrownAsIs()
        {
            var e = Assert.Throws<IOException>(
                () => client.UploadStream(Util.NewFolder("badstream"), "x.bin", new FailingStream(), 100));
            Assert.AreEqual("disk on fire", e.Message);
        }

        [Test]
        public void ShortStreamIsAnIoError()
        {
            var e = Assert.Throws<OneDriveIOException>(
                () => client.UploadStream(Util.NewFolder("short"), "x.bin", new MemoryStream(new byte[10]), 100));
            Assert.AreEqual(OneDriveStatus.Io, e.Status);
        }

        [Test]
        public void ProgressExceptionStopsTheCallAndIsRethrown()
        {
            var rec = new Recorder(p => { throw new InvalidOperationException("stop here"); });
            var e = Assert.Throws<InvalidOperationException>(
                () => client.Upload(Util.NewFolder("badprogress"), "x.bin", Util.Bytes(1000), progress: rec));
            Assert.AreEqual("stop here", e.Message);
        }

        [Test]
        public void MissingLocalFileIsAnIoError()
        {
            var e = Assert.Throws<OneDriveIOException>(
                () => client.UploadFile(Util.NewFolder("nofile"), "x.bin", "/nonexistent/dir/file.bin"));
            Assert.AreEqual(0, e.HttpStatus);
        }
    }
}
