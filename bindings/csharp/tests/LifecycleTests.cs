// Handles (dispose, finalizers), progress and cancellation.
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class LifecycleTests : EmulatorTest
    {
        [Test]
        public void DisposeTwiceAndUseAfterDispose()
        {
            string folder = Util.NewFolder("dispose");
            client.Upload(folder, "src.bin", Util.Bytes(10));
            var c = emu.NewClient();
            OneDriveJob job = c.Copy(folder + "/src.bin", folder, "copy.bin");
            UploadSession session = c.CreateUploadSession(folder, "s.bin", 10);

            c.Dispose();
            c.Dispose();
            Assert.IsTrue(c.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => c.GetItem("/"));
            Assert.Throws<ObjectDisposedException>(() => c.SetToken("x"));

            // jobs and sessions outlive their client
            Assert.AreEqual("copy.bin", client.WaitJob(job).Name);
            Assert.AreEqual(10L, session.Size);

            job.Dispose();
            job.Dispose();
            Assert.Throws<ObjectDisposedException>(() => { var u = job.MonitorUrl; });
            Assert.Throws<ObjectDisposedException>(() => client.PollJob(job));

            session.Dispose();
            session.Dispose();
            Assert.Throws<ObjectDisposedException>(() => session.ToJson());
            Assert.Throws<ObjectDisposedException>(() => client.CancelUploadSession(session));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void MakeGarbage(Emulator emu, string folder, int n)
        {
            for (int i = 0; i < n; i++)
            {
                var c = emu.NewClient();
                c.SetTokenCallback(() => Emulator.Token);
                var job = c.Copy(folder + "/src.bin", folder, "garbage" + i + ".bin", ConflictBehavior.Rename);
                var session = c.CreateUploadSession(folder, "g" + i + ".bin", 100);
                GC.KeepAlive(job);
                GC.KeepAlive(session);
                // no Dispose: the finalizer frees client, job and session
            }
        }

        [Test]
        public void FinalizersFreeHandlesOnTheFinalizerThread()
        {
            const int n = 5;
            string folder = Util.NewFolder("finalize");
            client.Upload(folder, "src.bin", Util.Bytes(10));
            var released = new ConcurrentQueue<Tuple<string, int>>();
            int testThread = Thread.CurrentThread.ManagedThreadId;
            OdHandle.Released = name => released.Enqueue(Tuple.Create(name, Thread.CurrentThread.ManagedThreadId));
            try
            {
                // Made on a thread that then ends, so no stale reference is
                // left on a live stack for the (conservative) GC to see.
                var maker = new Thread(() => MakeGarbage(emu, folder, n));
                maker.Start();
                maker.Join();
                Func<string, int> count = t => released.Count(r => r.Item1 == t);
                Util.Eventually(() =>
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    return count("ClientHandle") >= n && count("JobHandle") >= n && count("SessionHandle") >= n;
                }, "the finalizers to free " + n + " clients, jobs and sessions");
                Assert.IsTrue(released.All(r => r.Item2 != testThread), "freed on the finalizer thread, not this one");
            }
            finally
            {
                OdHandle.Released = null;
            }
            // the library is still fine
            Assert.IsTrue(client.GetItem(folder).IsFolder);
        }

        [Test]
        public void ProgressIsReportedOnTheCallingThread()
        {
            var rec = new Recorder();
            byte[] data = Util.Bytes(100000);
            DriveItem item = client.Upload(Util.NewFolder("progress"), "p.bin", data, progress: rec);
            Assert.AreEqual((long)data.Length, item.Size);
            var reports = rec.Reports;
            Assert.IsNotEmpty(reports);
            Assert.AreEqual((long)data.Length, reports.Last().Done);
            Assert.AreEqual((long)data.Length, reports.Last().Total);
            Assert.AreEqual(1.0, reports.Last().Fraction);
            Assert.AreEqual(100.0, reports.Last().Percent);
            Assert.AreEqual(new[] { Thread.CurrentThread.ManagedThreadId }, rec.Threads.Distinct().ToArray());
        }

        [Test]
        public void CancellingTheTokenStopsTheWaitOnAPausedJob()
        {
            string folder = Util.NewFolder("cancel");
            client.Upload(folder, "src.bin", Util.Bytes(1000));
            emu.SetJobConfig("{\"paused\":true}");
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "paused.bin"))
            using (var cts = new CancellationTokenSource())
            using (var looked = new ManualResetEventSlim())
            {
                var rec = new PercentRecorder(p => looked.Set());
                Task<DriveItem> wait = client.WaitJobAsync(job, null, rec, cts.Token);
                // The wait has looked at the job at least once: it is blocked in native code.
                Assert.IsTrue(looked.Wait(TimeSpan.FromSeconds(60)), "the wait never reported progress");
                Assert.IsFalse(wait.IsCompleted, "a paused job cannot complete");
                cts.Cancel();
                var agg = Assert.Throws<AggregateException>(() => wait.Wait(TimeSpan.FromSeconds(60)));
                Assert.IsInstanceOf<OperationCanceledException>(agg.InnerException);
                Assert.IsTrue(wait.IsCanceled, "the task ends Canceled");

                // stopping the wait did not stop the job
                Assert.AreNotEqual(JobState.Completed, client.PollJob(job).State);
                Assert.Throws<OneDriveInvalidStateException>(() => job.GetItem());
                emu.ResetJobConfig();
                Assert.AreEqual("paused.bin", client.WaitJob(job).Name);
            }
        }

        [Test]
        public void CancellingFromAnotherThreadStopsABlockingWait()
        {
            string folder = Util.NewFolder("cancelsync");
            client.Upload(folder, "src.bin", Util.Bytes(1000));
            emu.SetJobConfig("{\"paused\":true}");
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "paused.bin"))
            using (var cts = new CancellationTokenSource())
            {
                // The progress callback runs inside the blocking call: cancel
                // from another thread once the wait is under way.
                var rec = new PercentRecorder(p => ThreadPool.QueueUserWorkItem(_ => cts.Cancel()));
                var e = Assert.Throws<OperationCanceledException>(() => client.WaitJob(job, null, rec, cts.Token));
                Assert.AreEqual(cts.Token, e.CancellationToken);
                Assert.IsInstanceOf<OneDriveCancelledException>(e.InnerException);
                Assert.AreEqual(OneDriveStatus.Cancelled, ((OneDriveException)e.InnerException).Status);
            }
        }

        [Test]
        public void AlreadyCancelledTokenMakesNoRequest()
        {
            emu.ClearRequests();
            var token = new CancellationToken(true);
            Assert.Throws<OperationCanceledException>(() => client.Upload("/", "x.bin", Util.Bytes(1), cancellationToken: token));
            var task = client.UploadAsync("/", "x.bin", Util.Bytes(1), cancellationToken: token);
            Assert.Throws<AggregateException>(() => task.Wait());
            Assert.IsTrue(task.IsCanceled);
            Assert.IsEmpty(emu.Requests().Where(r => r.Origin != "admin").ToList());
        }

        private sealed class CancellingStream : MemoryStream
        {
            private readonly CancellationTokenSource cts;
            public CancellingStream(byte[] data, CancellationTokenSource cts) : base(data) { this.cts = cts; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                cts.Cancel(); // raised inside the call, before the upload can finish
                return base.Read(buffer, offset, count);
            }
        }

        [Test]
        public void CancellingDuringAnUploadStopsIt()
        {
            client.SetUploadOptions(327680, 327680);
            string folder = Util.NewFolder("cancelupload");
            using (var cts = new CancellationTokenSource())
            {
                byte[] data = Util.Bytes(327680 * 4);
                var e = Assert.Throws<OperationCanceledException>(
                    () => client.UploadStream(folder, "never.bin", new CancellingStream(data, cts), data.Length,
                        cancellationToken: cts.Token));
                Assert.IsInstanceOf<OneDriveCancelledException>(e.InnerException);
            }
            Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/never.bin"));
        }

        [Test]
        public void CancelledCallLeavesTheClientUsable()
        {
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.Catch<OperationCanceledException>(() => client.GetItemAsync("/", cancellationToken: cts.Token).GetAwaiter().GetResult());
            }
            Assert.IsTrue(client.GetItem("/").IsFolder);
        }
    }
}
