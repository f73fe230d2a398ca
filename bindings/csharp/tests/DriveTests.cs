// Listing (IEnumerable, IAsyncEnumerable, the NextAsync pattern), move and
// rename against the emulator (issue 22 items 2 and 3).
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class ListingTests : EmulatorTest
    {
        // names with #, %, spaces and non-ASCII, in the order the service gives (case ignored)
        static readonly string[] Names = { "a #1.txt", "B 100%.txt", "c.txt", "d é.txt", "E.txt", "f.txt", "g.txt" };

        private string Folder(string what)
        {
            string folder = Util.NewFolder(what);
            foreach (string n in Names) client.Upload(folder, n, Util.Bytes(n.Length));
            client.CreateFolder(folder, "sub");
            client.Upload(folder + "/sub", "inner.txt", new byte[3]);
            return folder;
        }

        private int PageRequests(string folderName)
        {
            return emu.Requests().Count(r => r.Method == "GET" && r.Path.Contains("/children"));
        }

        [Test]
        public void ListsEveryChildPageByPageInTheServicesOrder()
        {
            string folder = Folder("list");
            emu.ClearRequests();
            List<DriveItem> items = client.List(folder, pageSize: 3).ToList();
            var expected = Names.Concat(new[] { "sub" }).OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToArray();
            CollectionAssert.AreEqual(expected, items.Select(i => i.Name).ToArray());
            Assert.AreEqual(3, PageRequests(folder), "8 children, 3 per page: 3 pages");
            DriveItem sub = items.Single(i => i.Name == "sub");
            Assert.IsTrue(sub.IsFolder);
            Assert.AreEqual(1L, sub.ChildCount);
            DriveItem a = items.Single(i => i.Name == "a #1.txt");
            Assert.IsFalse(a.IsFolder);
            Assert.IsNull(a.ChildCount);
            Assert.AreEqual((long)"a #1.txt".Length, a.Size);
            Assert.IsTrue(a.LastModified.HasValue);
            Assert.That(a.LastModified.Value, Is.InRange(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1)));
        }

        [Test]
        public void PagesAreFetchedOnlyAsTheEnumerationGoes()
        {
            string folder = Folder("lazy");
            emu.ClearRequests();
            IEnumerable<DriveItem> listing = client.List(folder, pageSize: 2);
            Assert.AreEqual(0, PageRequests(folder), "nothing is sent before the enumeration");
            CollectionAssert.AreEqual(new[] { "a #1.txt", "B 100%.txt" }, listing.Take(2).Select(i => i.Name).ToArray());
            Assert.AreEqual(1, PageRequests(folder), "two children: one page");
            Assert.AreEqual(8, listing.Count(), "each enumeration lists afresh");
        }

        [Test]
        public void AMissingFolderThrowsAtTheFirstItem()
        {
            IEnumerable<DriveItem> listing = client.List(Util.NewFolder("missing"));
            Assert.Throws<OneDriveNotFoundException>(() => listing.First());
            using (OneDriveListing l = client.OpenListing(Util.NewFolder("missing")))
            {
                Assert.Throws<OneDriveNotFoundException>(() => l.Next());
                Assert.IsNull(l.Next(), "after an error the listing is over");
            }
            Assert.Throws<ArgumentNullException>(() => client.List(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => client.List("/", -1));
        }

        [Test]
        public void AnEmptyFolderAndTheNextAsyncPattern()
        {
            string empty = Util.NewFolder("empty");
            client.CreateFolder("/", empty.TrimStart('/'));
            Assert.AreEqual(0, client.List(empty).Count());
            string folder = Folder("pattern");
            var names = new List<string>();
            using (OneDriveListing listing = client.OpenListing(folder, 3))
            {
                for (DriveItem item; (item = listing.NextAsync().Result) != null;)
                    names.Add(item.Name);
                Assert.IsNull(listing.Next(), "null at the end, and after it");
            }
            Assert.AreEqual(8, names.Count);
        }

        [Test]
        public void ATenThousandChildFolderIsListedInPages()
        {
            string folder = Util.NewFolder("big");
            emu.Admin("POST", "/seed", "{\"path\":\"" + folder + "\",\"count\":10000,\"prefix\":\"f\"}");
            emu.ClearRequests();
            long n = 0;
            string last = null;
            foreach (DriveItem item in client.List(folder, pageSize: 1000))
            {
                if (last != null) Assert.Less(string.Compare(last, item.Name, StringComparison.OrdinalIgnoreCase), 0);
                last = item.Name;
                n++;
            }
            Assert.AreEqual(10000, n);
            Assert.AreEqual(10, PageRequests(folder));
        }

        [Test]
        public void ListAsyncIsAnIAsyncEnumerable()
        {
            string folder = Folder("async");
            IAsyncEnumerable<DriveItem> seq = client.ListAsync(folder, pageSize: 3);
            var names = new List<string>();
            IAsyncEnumerator<DriveItem> e = seq.GetAsyncEnumerator();
            try
            {
                while (e.MoveNextAsync().AsTask().Result) names.Add(e.Current.Name);
            }
            finally
            {
                Assert.IsTrue(e.DisposeAsync().IsCompleted);
            }
            Assert.AreEqual(8, names.Count);
            Assert.AreEqual("a #1.txt", names[0]);
            // a missing folder: the first MoveNextAsync faults with NotFound
            var missing = client.ListAsync(Util.NewFolder("missing")).GetAsyncEnumerator();
            var agg = Assert.Throws<AggregateException>(() => missing.MoveNextAsync().AsTask().Wait());
            Assert.IsInstanceOf<OneDriveNotFoundException>(agg.InnerException);
            missing.DisposeAsync();
        }

        private static void StopsAfterTheFirst(IAsyncEnumerator<DriveItem> e, CancellationTokenSource cts)
        {
            Assert.IsTrue(e.MoveNextAsync().AsTask().Result);
            cts.Cancel();
            var agg = Assert.Throws<AggregateException>(() => e.MoveNextAsync().AsTask().Wait());
            Assert.IsInstanceOf<OperationCanceledException>(agg.InnerException);
            Assert.IsTrue(e.DisposeAsync().IsCompleted);
        }

        [Test]
        public void ListAsyncStopsAtEitherToken()
        {
            string folder = Folder("cancel");
            using (var cts = new CancellationTokenSource())
                StopsAfterTheFirst(client.ListAsync(folder, 2, cancellationToken: cts.Token).GetAsyncEnumerator(), cts);
            using (var cts = new CancellationTokenSource()) // WithCancellation's token
                StopsAfterTheFirst(client.ListAsync(folder, 2).GetAsyncEnumerator(cts.Token), cts);
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => client.List(folder, cancellationToken: cts.Token).First());
            }
        }
    }

    [TestFixture]
    public class MoveTests : EmulatorTest
    {
        [Test]
        public void MovesRenamesAndKeepsTheId()
        {
            string folder = Util.NewFolder("move");
            DriveItem f = client.Upload(folder, "a #1 100% é.txt", Util.Bytes(10));
            client.CreateFolder(folder, "dest é");
            DriveItem moved = client.Move(folder + "/a #1 100% é.txt", folder + "/dest é", "b #2.txt");
            Assert.AreEqual(f.Id, moved.Id);
            Assert.AreEqual("b #2.txt", moved.Name);
            Assert.AreEqual(client.GetItem(folder + "/dest é").Id, moved.ParentId);
            Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/a #1 100% é.txt"));
            DriveItem renamed = client.Rename(moved.Id, "c %3.txt");
            Assert.AreEqual("c %3.txt", renamed.Name);
            Assert.AreEqual(f.Id, client.GetItem(folder + "/dest é/c %3.txt").Id);
            DriveItem back = client.MoveAsync(renamed.Id, folder).Result; // the name kept
            Assert.AreEqual("c %3.txt", back.Name);
            Assert.AreEqual(f.Id, client.GetItem(folder + "/c %3.txt").Id);
            Assert.AreEqual("d.txt", client.RenameAsync(folder + "/c %3.txt", "d.txt").Result.Name);
        }

        [Test]
        public void ConflictsIfMatchAndRefusals()
        {
            string folder = Util.NewFolder("move-conflict");
            DriveItem a = client.Upload(folder, "a.txt", Util.Bytes(1));
            client.Upload(folder, "b.txt", Util.Bytes(2));
            var e = Assert.Throws<OneDriveConflictException>(() => client.Rename(folder + "/a.txt", "b.txt", ConflictBehavior.Fail));
            Assert.AreEqual(409, e.HttpStatus);
            Assert.AreEqual("b 1.txt", client.Rename(folder + "/a.txt", "b.txt", ConflictBehavior.Rename).Name);
            // If-Match: an eTag read before a change is refused
            DriveItem now = client.GetItem(a.Id);
            Assert.Throws<OneDriveConflictException>(() => client.Rename(a.Id, "x.txt", ifMatch: a.ETag));
            Assert.AreEqual("x.txt", client.Rename(a.Id, "x.txt", ifMatch: now.ETag).Name);
            // a folder into its own subtree
            client.CreateFolder(folder + "/p", "q", parents: true);
            var into = Assert.Catch<OneDriveException>(() => client.Move(folder + "/p", folder + "/p/q"));
            Assert.That(into, Is.InstanceOf<OneDriveBadRequestException>().Or.InstanceOf<OneDriveConflictException>());
            // refused before any request
            Assert.Throws<OneDriveInvalidNameException>(() => client.Rename(a.Id, "a|b"));
            Assert.Throws<OneDriveInvalidArgumentException>(() => client.Rename("/", "root"));
            Assert.Throws<OneDriveNotSupportedException>(() =>
                client.Move(a.Id, "/", destDriveId: "another-drive", drive: "/drives/" + emu.DefaultDriveId));
            Assert.Throws<ArgumentException>(() => client.Move(a.Id, null));
            Assert.Throws<ArgumentNullException>(() => client.Rename(a.Id, null));
            Assert.Throws<OneDriveNotFoundException>(() => client.Rename(folder + "/nothing.txt", "y.txt"));
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => client.Rename(a.Id, "z.txt", cancellationToken: cts.Token));
            }
            Assert.AreEqual("x.txt", client.GetItem(a.Id).Name);
        }
    }
}

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class DownloadTests : EmulatorTest
    {
        private string tmp;

        [SetUp]
        public void MakeTemp()
        {
            tmp = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cs-dl-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(tmp);
        }

        [TearDown]
        public void RemoveTemp() { System.IO.Directory.Delete(tmp, true); }

        [Test]
        public void DownloadsToAFileWithProgress()
        {
            string folder = Util.NewFolder("dl");
            byte[] data = Util.Bytes(300000, 5);
            DriveItem up = client.Upload(folder, "d #1 é.bin", data);
            string path = System.IO.Path.Combine(tmp, "out é.bin");
            var rec = new Recorder();
            DriveItem item = client.DownloadFile(folder + "/d #1 é.bin", path, progress: rec);
            Assert.AreEqual(up.Id, item.Id);
            CollectionAssert.AreEqual(data, System.IO.File.ReadAllBytes(path));
            Assert.AreEqual((long)data.Length, rec.Reports.Last().Done);
            Assert.AreEqual((long)data.Length, rec.Reports.Last().Total);
            Assert.GreaterOrEqual(rec.Reports.Count, data.Length / 65536, "at least every 64 KiB");
            Assert.AreEqual(new[] { "out é.bin" }, System.IO.Directory.GetFiles(tmp).Select(System.IO.Path.GetFileName).ToArray(),
                "no temporary file left");
            // by id, async, replacing the file
            System.IO.File.WriteAllText(path, "old");
            Assert.AreEqual(up.Id, client.DownloadFileAsync(up.Id, path).Result.Id);
            CollectionAssert.AreEqual(data, System.IO.File.ReadAllBytes(path));
        }

        [Test]
        public void DownloadsIntoAStream()
        {
            string folder = Util.NewFolder("dl-stream");
            byte[] data = Util.Bytes(200000, 6);
            client.Upload(folder, "s.bin", data);
            var ms = new System.IO.MemoryStream();
            DriveItem item = client.Download(folder + "/s.bin", ms);
            CollectionAssert.AreEqual(data, ms.ToArray());
            Assert.AreEqual((long)data.Length, item.Size);
            var empty = new System.IO.MemoryStream();
            client.Upload(folder, "zero.bin", new byte[0]);
            Assert.AreEqual(0L, client.DownloadAsync(folder + "/zero.bin", empty).Result.Size);
            Assert.AreEqual(0, empty.Length);
        }

        [Test]
        public void ACutConnectionIsResumedAndTheStreamNeverGetsAByteTwice()
        {
            string folder = Util.NewFolder("dl-cut");
            byte[] data = Util.Bytes(150000, 7);
            client.Upload(folder, "c.bin", data);
            emu.AddFault("{\"origin\":\"monitor\",\"path_contains\":\"/download/\",\"times\":{\"next\":1},\"action\":{\"drop_body_after\":70000}}");
            var ms = new System.IO.MemoryStream();
            client.Download(folder + "/c.bin", ms);
            CollectionAssert.AreEqual(data, ms.ToArray());
            Assert.IsTrue(emu.Requests().Any(r => r.Path.Contains("/download/") && r.Status == 206), "resumed with a range");
        }

        [Test]
        public void AStreamsExceptionIsRethrownAsIsAndErrorsAreTyped()
        {
            string folder = Util.NewFolder("dl-err");
            client.Upload(folder, "e.bin", Util.Bytes(100000));
            var boom = new System.IO.IOException("disk full");
            var e = Assert.Throws<System.IO.IOException>(() => client.Download(folder + "/e.bin", new ThrowingStream(boom)));
            Assert.AreSame(boom, e);
            Assert.Throws<OneDriveNotFoundException>(() => client.Download(folder + "/none.bin", new System.IO.MemoryStream()));
            Assert.Throws<OneDriveNotFoundException>(() => client.DownloadFile(folder + "/none.bin", System.IO.Path.Combine(tmp, "x")));
            Assert.Throws<OneDriveInvalidArgumentException>(() => client.DownloadFile(folder, System.IO.Path.Combine(tmp, "x")));
            Assert.Throws<OneDriveIOException>(() => client.DownloadFile(folder + "/e.bin", System.IO.Path.Combine(tmp, "no/such/dir/x")));
            Assert.Throws<ArgumentException>(() => client.Download(folder + "/e.bin", new System.IO.MemoryStream(new byte[1], false)));
            Assert.Throws<ArgumentNullException>(() => client.Download(folder + "/e.bin", null));
            Assert.Throws<ArgumentOutOfRangeException>(() => client.SetDownloadRate(-1));
            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                Assert.Throws<OperationCanceledException>(() => client.Download(folder + "/e.bin", new System.IO.MemoryStream(), cancellationToken: cts.Token));
            }
        }

        [Test]
        public void ACancelledDownloadKeepsItsTemporaryFileAndResumes()
        {
            string folder = Util.NewFolder("dl-resume");
            byte[] data = Util.Bytes(400000, 8);
            client.Upload(folder, "r.bin", data);
            string path = System.IO.Path.Combine(tmp, "r.bin");
            using (var cts = new CancellationTokenSource())
            {
                var rec = new Recorder(p => { if (p.Done >= 100000) cts.Cancel(); });
                Assert.Throws<OperationCanceledException>(() => client.DownloadFile(folder + "/r.bin", path, progress: rec, cancellationToken: cts.Token));
            }
            Assert.IsFalse(System.IO.File.Exists(path), "no partial file under the target's name");
            Assert.IsTrue(System.IO.Directory.GetFiles(tmp).Any(f => f.EndsWith(".odpart")), "the temporary file is kept");
            emu.ClearRequests();
            client.DownloadFile(folder + "/r.bin", path);
            CollectionAssert.AreEqual(data, System.IO.File.ReadAllBytes(path));
            Assert.IsTrue(emu.Requests().Any(r => r.Path.Contains("/download/") && r.Status == 206), "resumed from the temporary file");
        }

        [Test]
        public void TheDownloadRateCapsTheSpeed()
        {
            string folder = Util.NewFolder("dl-rate");
            client.Upload(folder, "slow.bin", Util.Bytes(120000));
            client.SetDownloadRate(100000);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            client.Download(folder + "/slow.bin", new System.IO.MemoryStream());
            Assert.GreaterOrEqual(sw.Elapsed.TotalSeconds, 0.15, "120 kB at 100 kB/s cannot come at once");
            client.SetDownloadRate(0);
        }

        sealed class ThrowingStream : System.IO.Stream
        {
            private readonly Exception e;
            public ThrowingStream(Exception e) { this.e = e; }
            public override bool CanRead { get { return false; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return true; } }
            public override long Length { get { throw new NotSupportedException(); } }
            public override long Position { get { return 0; } set { throw new NotSupportedException(); } }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
            public override long Seek(long offset, System.IO.SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
            public override void Write(byte[] buffer, int offset, int count) { throw e; }
        }
    }
}
