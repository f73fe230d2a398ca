// The durable transfer queue (issue 23) from C#: enqueue, events (the
// Changed event, NextEvent polling, the IAsyncEnumerable), pause / resume /
// cancel / remove, totals, reopening a directory, and the JSON reader that
// turns a completed transfer's item into a DriveItem.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class QueueTests : EmulatorTest
    {
        private string dir;
        private string files;

        [SetUp]
        public void MakeDirs()
        {
            string root = Path.Combine(Path.GetTempPath(), "cs-queue-" + Guid.NewGuid().ToString("N"));
            dir = Path.Combine(root, "queue");
            files = Path.Combine(root, "files");
            Directory.CreateDirectory(files);
        }

        [TearDown]
        public void RemoveDirs() { Directory.Delete(Path.GetDirectoryName(dir), true); }

        private string LocalFile(string name, int size, int seed = 1)
        {
            string path = Path.Combine(files, name);
            File.WriteAllBytes(path, Util.Bytes(size, seed));
            return path;
        }

        [Test]
        public void UploadsEverythingAndRaisesEventsOnItsOwnThread()
        {
            string folder = Util.NewFolder("queue");
            client.CreateFolder("/", folder.TrimStart('/'));
            var events = new ConcurrentQueue<TransferEvent>();
            var threads = new ConcurrentBag<int>();
            int testThread = Thread.CurrentThread.ManagedThreadId;
            var ids = new List<long>();
            using (var queue = OneDriveQueue.Open(client, dir, maxRunning: 3))
            {
                queue.Changed += (s, e) => { events.Enqueue(e); threads.Add(Thread.CurrentThread.ManagedThreadId); };
                for (int i = 0; i < 6; i++)
                    ids.Add(queue.EnqueueUpload(LocalFile("f" + i + ".bin", 1000 * i + 1, i), folder, "f" + i + " é#.bin"));
                CollectionAssert.AreEqual(ids.OrderBy(x => x).ToList(), ids, "ids grow");
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(2)), "hang guard");
                IReadOnlyList<Transfer> all = queue.List();
                Assert.AreEqual(6, all.Count);
                foreach (Transfer t in all)
                {
                    Assert.AreEqual(TransferState.Completed, t.State, t.ToString());
                    Assert.AreEqual(TransferKind.Upload, t.Kind);
                    Assert.IsTrue(t.IsFinished);
                    Assert.IsNull(t.Error);
                    Assert.AreEqual(t.Total, t.Done);
                    Assert.AreEqual(t.Name, t.Item.Name);
                    Assert.AreEqual(t.Total, t.Item.Size);
                    Assert.AreEqual(client.GetItem(folder + "/" + t.Name).Id, t.Item.Id);
                }
                TransferTotals totals = queue.GetTotals();
                Assert.AreEqual(6, totals.Files);
                Assert.AreEqual(6, totals.Completed);
                Assert.AreEqual(all.Sum(t => t.Total), totals.BytesTotal);
                Assert.AreEqual(totals.BytesTotal, totals.BytesDone);
                Assert.AreEqual(1.0, totals.Fraction);
                Util.Eventually(() => ids.All(id => events.Any(e => e.Id == id && e.State == TransferState.Completed)),
                    "a Completed event per transfer");
            }
            Assert.IsFalse(threads.Contains(testThread), "events come on the queue's thread");
            foreach (long id in ids)
            {
                var mine = events.Where(e => e.Id == id && e.Kind == TransferEventKind.State).Select(e => e.State.Value).ToList();
                Assert.AreEqual(TransferState.Completed, mine.Last());
                Assert.Contains(TransferState.Running, mine);
            }
        }

        [Test]
        public void EventsCanBePolledAndAwaited()
        {
            string folder = Util.NewFolder("queue-poll");
            client.CreateFolder("/", folder.TrimStart('/'));
            using (var queue = OneDriveQueue.Open(client, dir))
            {
                long a = queue.EnqueueUpload(LocalFile("a.bin", 5000), folder, "a.bin");
                var seen = new List<TransferEvent>();
                var deadline = DateTime.UtcNow.AddMinutes(1);
                while (!seen.Any(e => e.Id == a && e.State == TransferState.Completed))
                {
                    Assert.Less(DateTime.UtcNow, deadline, "hang guard");
                    TransferEvent e = queue.NextEvent(TimeSpan.FromSeconds(5));
                    if (e != null) seen.Add(e);
                }
                var states = seen.Where(e => e.Kind == TransferEventKind.State).Select(e => e.State.Value).ToList();
                Assert.AreEqual(TransferState.Completed, states.Last());
                Assert.IsTrue(seen.Where(e => e.Kind == TransferEventKind.Progress).All(e => e.Done <= e.Total && e.State == null));
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                while (queue.NextEvent(TimeSpan.Zero) != null) { } // drained
                Assert.IsNull(queue.NextEvent(TimeSpan.FromMilliseconds(50)), "none left: null");

                // the awaitable form, and the IAsyncEnumerable
                long b = queue.EnqueueUpload(LocalFile("b.bin", 3000), folder, "b.bin");
                TransferEvent first = queue.NextEventAsync().Result;
                Assert.AreEqual(b, first.Id);
                IAsyncEnumerator<TransferEvent> it = queue.Events().GetAsyncEnumerator();
                try
                {
                    while (true)
                    {
                        Assert.IsTrue(it.MoveNextAsync().AsTask().Wait(TimeSpan.FromMinutes(1)), "hang guard");
                        if (it.Current.Id == b && it.Current.State == TransferState.Completed) break;
                    }
                }
                finally
                {
                    it.DisposeAsync();
                }
                using (var cts = new CancellationTokenSource())
                {
                    Task<TransferEvent> never = queue.NextEventAsync(cts.Token);
                    cts.Cancel();
                    var agg = Assert.Throws<AggregateException>(() => never.Wait(TimeSpan.FromMinutes(1)));
                    Assert.IsInstanceOf<OperationCanceledException>(agg.InnerException);
                }
            }
        }

        [Test]
        public void PauseResumeCancelRemoveAndTheirErrors()
        {
            string folder = Util.NewFolder("queue-control");
            client.CreateFolder("/", folder.TrimStart('/'));
            using (var queue = OneDriveQueue.Open(client, dir, startOffline: true))
            {
                long a = queue.EnqueueUpload(LocalFile("a.bin", 100), folder, "a.bin");
                long b = queue.EnqueueUpload(LocalFile("b.bin", 200), folder, "b.bin");
                long c = queue.EnqueueUpload(LocalFile("c.bin", 300), folder, "c.bin");
                Util.Eventually(() => queue.Get(a).State == TransferState.Waiting, "offline: waiting");
                Assert.AreEqual(TransferWaitReason.Offline, queue.Get(a).WaitReason);
                queue.Pause(a);
                Assert.AreEqual(TransferState.Paused, queue.Get(a).State);
                queue.Cancel(b);
                Assert.AreEqual(TransferState.Cancelled, queue.Get(b).State);
                Assert.AreEqual(new[] { b }, queue.List(TransferState.Cancelled).Select(t => t.Id).ToArray());
                queue.SetOnline(true);
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Assert.AreEqual(TransferState.Completed, queue.Get(c).State);
                Assert.AreEqual(TransferState.Paused, queue.Get(a).State, "paused stays paused");
                queue.Resume(a);
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Assert.AreEqual(TransferState.Completed, queue.Get(a).State);
                Assert.AreEqual(100L, client.GetItem(folder + "/a.bin").Size);
                Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/b.bin"), "cancelled: never sent");

                Assert.Throws<OneDriveInvalidStateException>(() => queue.Pause(c));
                Assert.Throws<OneDriveNotFoundException>(() => queue.Get(999999));
                Assert.Throws<ArgumentOutOfRangeException>(() => queue.Get(0));
                queue.Remove(c);
                Assert.Throws<OneDriveNotFoundException>(() => queue.Get(c));
                Assert.AreEqual(2, queue.RemoveFinished());
                Assert.AreEqual(0, queue.List().Count);
                Assert.AreEqual(0, queue.GetTotals().Files);
                queue.SetMaxRunning(2);
                Assert.Throws<ArgumentOutOfRangeException>(() => queue.SetMaxRunning(0));
            }
        }

        [Test]
        public void APermanentFailureEndsTheTransferWithItsError()
        {
            string folder = Util.NewFolder("queue-fail");
            client.Upload(folder, "taken.bin", new byte[1]);
            using (var queue = OneDriveQueue.Open(client, dir))
            {
                long id = queue.EnqueueUpload(LocalFile("t.bin", 10), folder, "taken.bin", ConflictBehavior.Fail);
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Transfer t = queue.Get(id);
                Assert.AreEqual(TransferState.Failed, t.State);
                Assert.IsInstanceOf<OneDriveException>(t.Error);
                Assert.AreEqual(OneDriveStatus.Conflict, t.Error.Status);
                Assert.AreEqual(409, t.Error.HttpStatus);
                Assert.IsNull(t.Item);
                Assert.AreEqual(1, queue.GetTotals().Failed);
            }
        }

        [Test]
        public void CopiesGoThroughTheQueueToo()
        {
            string folder = Util.NewFolder("queue-copy");
            DriveItem src = client.Upload(folder, "src.bin", Util.Bytes(4000));
            using (var queue = OneDriveQueue.Open(client, dir))
            {
                long id = queue.EnqueueCopy(src.Id, folder, "copy.bin");
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Transfer t = queue.Get(id);
                Assert.AreEqual(TransferKind.Copy, t.Kind);
                Assert.AreEqual(TransferState.Completed, t.State, t.Error == null ? "" : t.Error.ToString());
                Assert.AreEqual("copy.bin", t.Item.Name);
                Assert.AreEqual(src.QuickXorHash, client.GetItem(folder + "/copy.bin").QuickXorHash);
            }
        }

        [Test]
        public void ReopeningTheDirectoryRestoresEveryTransfer()
        {
            string folder = Util.NewFolder("queue-reopen");
            client.CreateFolder("/", folder.TrimStart('/'));
            long a, b;
            using (var queue = OneDriveQueue.Open(client, dir, startOffline: true))
            {
                a = queue.EnqueueUpload(LocalFile("a.bin", 700), folder, "a.bin");
                b = queue.EnqueueUpload(LocalFile("b.bin", 800), folder, "b.bin");
                queue.Pause(b);
                // one queue per directory
                Assert.Throws<OneDriveInvalidStateException>(() => OneDriveQueue.Open(client, dir).Dispose());
            }
            using (var queue = OneDriveQueue.Open(client, dir))
            {
                Assert.AreEqual(new[] { a, b }, queue.List().Select(t => t.Id).ToArray());
                Assert.AreEqual(TransferState.Paused, queue.Get(b).State);
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Assert.AreEqual(TransferState.Completed, queue.Get(a).State);
                long c = queue.EnqueueUpload(LocalFile("c.bin", 10), folder, "c.bin");
                Assert.Greater(c, b, "ids are never reused");
                queue.Close();
                Assert.AreEqual(2, queue.List().Count(t => t.Id != c), "a closed queue can still be read");
                Assert.Throws<OneDriveInvalidStateException>(() => queue.Resume(b));
                queue.Close(); // twice is harmless
            }
        }

        [Test]
        public void DisposingTheClientFirstLeavesTheQueueWorking()
        {
            string folder = Util.NewFolder("queue-client");
            client.CreateFolder("/", folder.TrimStart('/'));
            var c = emu.NewClient();
            c.SetTokenCallback(() => Emulator.Token); // state the managed client frees with the native one
            var queue = OneDriveQueue.Open(c, dir);
            c.Dispose();
            Assert.Throws<ObjectDisposedException>(() => OneDriveQueue.Open(c, dir + "2"));
            long id = queue.EnqueueUpload(LocalFile("a.bin", 1234), folder, "a.bin");
            Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
            Assert.AreEqual(1234L, queue.Get(id).Item.Size);
            Assert.IsTrue(queue.DisposeAsync().AsTask().Wait(TimeSpan.FromMinutes(1)));
            Assert.IsTrue(queue.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => queue.Get(id));
        }

        [Test]
        public void AHandlerMayControlTheQueueButNotDisposeIt()
        {
            string folder = Util.NewFolder("queue-handler");
            client.CreateFolder("/", folder.TrimStart('/'));
            Exception fromDispose = null;
            using (var queue = OneDriveQueue.Open(client, dir))
            {
                long second = 0;
                queue.Changed += (s, e) => { throw new InvalidOperationException("a failing handler is dropped"); };
                queue.Changed += (s, e) =>
                {
                    if (e.State != TransferState.Running) return;
                    try { queue.Dispose(); } catch (Exception x) { fromDispose = x; }
                    if (e.Id != second) queue.GetTotals(); // any other call is allowed
                };
                queue.EnqueueUpload(LocalFile("a.bin", 100), folder, "a.bin");
                second = queue.EnqueueUpload(LocalFile("b.bin", 100), folder, "b.bin");
                Assert.IsTrue(queue.WaitIdle(TimeSpan.FromMinutes(1)));
                Util.Eventually(() => fromDispose != null, "the handler ran");
                Assert.IsFalse(queue.IsDisposed);
                Assert.AreEqual(2, queue.GetTotals().Completed);
            }
            Assert.IsInstanceOf<InvalidOperationException>(fromDispose);
        }
    }
}
