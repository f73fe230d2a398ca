// The four operations (upload, url_upload, copy, poll/wait) against the emulator.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class OperationTests : EmulatorTest
    {
        [Test]
        public void VersionIsReadable()
        {
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+", OneDriveClient.LibraryVersion);
        }

        [Test]
        public void UploadsABufferAndReadsTheItemBack()
        {
            string folder = Util.NewFolder("upload");
            byte[] data = Util.Bytes(10000);
            DriveItem item = client.Upload(folder, "hello.bin", data);
            Assert.AreEqual("hello.bin", item.Name);
            Assert.AreEqual(10000L, item.Size);
            Assert.IsFalse(item.IsFolder);
            Assert.IsNotNullOrEmpty(item.Id);
            Assert.IsNotNullOrEmpty(item.ETag);
            Assert.IsNotNullOrEmpty(item.QuickXorHash);
            Assert.AreEqual(emu.DefaultDriveId, item.DriveId);
            StringAssert.Contains("\"hello.bin\"", item.Json);

            DriveItem again = client.GetItem(folder + "/hello.bin");
            Assert.AreEqual(item.Id, again.Id);
            DriveItem byId = client.GetItem(item.Id);
            Assert.AreEqual(item.QuickXorHash, byId.QuickXorHash);
            DriveItem parent = client.GetItem(folder);
            Assert.IsTrue(parent.IsFolder);
            Assert.AreEqual(parent.Id, item.ParentId);
        }

        [Test]
        public void AnExpiringTokenIsRefreshedFirstByAnAsyncCallback()
        {
            using (var c = emu.NewClient())
            {
                string folder = Util.NewFolder("expiring");
                c.Upload(folder, "t.bin", Util.Bytes(3));
                int calls = 0;
                c.SetToken(Emulator.Token, DateTimeOffset.UtcNow.AddSeconds(60)); // inside the 5-minute margin
                c.SetTokenCallback(async ct =>
                {
                    Interlocked.Increment(ref calls);
                    await Task.Yield();
                    return new OneDriveAccessToken(Emulator.Token, DateTimeOffset.UtcNow.AddHours(1));
                });
                Assert.AreEqual(3L, c.GetItem(folder + "/t.bin").Size);
                Assert.AreEqual(1, calls);
                c.GetItem(folder + "/t.bin");
                Assert.AreEqual(1, calls); // an hour left: not asked again
            }
        }

        [Test]
        public void CreatesFoldersAndDeletes()
        {
            string folder = Util.NewFolder("folders");
            DriveItem made = client.CreateFolder(folder, "Backup", parents: true);   // the test folder is new
            Assert.IsTrue(made.IsFolder);
            Assert.AreEqual("Backup", made.Name);
            Assert.Throws<OneDriveConflictException>(() => client.CreateFolder(folder, "Backup"));
            Assert.AreEqual("Backup 1", client.CreateFolder(folder, "Backup", ConflictBehavior.Rename).Name);
            Assert.Throws<OneDriveNotFoundException>(() => client.CreateFolder(folder + "/x/y", "z"));
            DriveItem deep = client.CreateFolderAsync(folder + "/x/y", "z", parents: true).Result;
            Assert.AreEqual(deep.Id, client.GetItem(folder + "/x/y/z").Id);
            Assert.Throws<OneDriveInvalidNameException>(() => client.CreateFolder(folder, "a|b"));

            DriveItem file = client.Upload(folder + "/Backup", "f.txt", Util.Bytes(10));
            client.Upload(folder + "/Backup", "f.txt", Util.Bytes(20));
            Assert.Throws<OneDriveConflictException>(() => client.Delete(folder + "/Backup/f.txt", file.ETag));
            client.Delete(folder + "/Backup/f.txt");
            Assert.Throws<OneDriveNotFoundException>(() => client.Delete(folder + "/Backup/f.txt"));
            client.DeleteAsync(made.Id).Wait();
            Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/Backup"));
        }

        [Test]
        public void UploadReplacesByPathAndById()
        {
            string folder = Util.NewFolder("replace");
            DriveItem first = client.Upload(folder + "/f.txt", null, Util.Bytes(10, 1));
            DriveItem byPath = client.Upload(folder + "/f.txt", null, Util.Bytes(20, 2));
            Assert.AreEqual(first.Id, byPath.Id);
            Assert.AreEqual(20L, byPath.Size);
            DriveItem byId = client.Upload(first.Id, null, Util.Bytes(30, 3), drive: "/drives/" + emu.DefaultDriveId);
            Assert.AreEqual(first.Id, byId.Id);
            Assert.AreEqual(30L, byId.Size);
        }

        [Test]
        public void UploadsAPartOfAnArrayAndAnEmptyFile()
        {
            string folder = Util.NewFolder("segment");
            byte[] data = Util.Bytes(1000);
            DriveItem part = client.Upload(folder, "part.bin", new ArraySegment<byte>(data, 100, 500));
            Assert.AreEqual(500L, part.Size);
            DriveItem empty = client.Upload(folder, "empty.bin", new byte[0]);
            Assert.AreEqual(0L, empty.Size);
        }

        [Test]
        public void Utf8NamesRoundTrip()
        {
            string folder = Util.NewFolder("utf8") + "/dossier été";
            const string name = "Grüße ✓ 𝄞 #%&+ 日本.txt";
            DriveItem item = client.Upload(folder, name, Util.Bytes(3));
            Assert.AreEqual(name, item.Name);
            DriveItem back = client.GetItem(folder + "/" + name);
            Assert.AreEqual(item.Id, back.Id);
            Assert.AreEqual(name, back.Name);
            StringAssert.Contains("dossier été", client.GetItem(folder).Name);
        }

        [Test]
        public void LargeFileGoesThroughAnUploadSessionInSmallChunks()
        {
            const long chunk = 327680; // 320 KiB, the smallest chunk the service takes
            client.SetUploadOptions(chunk, chunk, HashChecks.Sha1 | HashChecks.Sha256);
            string folder = Util.NewFolder("session");
            int size = (int)(chunk * 3 + 12345);
            string path = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(path, Util.Bytes(size, 7));
                emu.ClearRequests();
                var rec = new Recorder();
                DriveItem item = client.UploadFile(folder, "big.bin", path, progress: rec);
                Assert.AreEqual((long)size, item.Size);
                Assert.AreEqual("big.bin", item.Name);

                var puts = emu.Requests().Where(r => r.Origin == "monitor" && r.Method == "PUT").ToList();
                Assert.AreEqual(4, puts.Count, "one PUT per chunk");
                Assert.IsTrue(puts.All(r => r.BodyBytes <= chunk), "chunks of at most 320 KiB");
                Assert.IsTrue(puts.All(r => !r.Authorization), "no token to the upload URL");
                Assert.AreEqual((long)size, puts.Sum(r => r.BodyBytes),
                    string.Join(", ", puts.Select(r => r.Path + " " + r.Status + " " + r.BodyBytes)));

                var reports = rec.Reports;
                Assert.That(reports.Count, Is.GreaterThanOrEqualTo(4));
                Assert.IsTrue(reports.All(p => p.Total == (long)size));
                for (int i = 1; i < reports.Count; i++)
                    Assert.That(reports[i].Done, Is.GreaterThanOrEqualTo(reports[i - 1].Done));
                // The library reports after each chunk the service acknowledged
                // with 202; the last chunk's 200/201 is not reported (yet).
                Assert.That(reports.Last().Done, Is.EqualTo((long)size).Or.EqualTo((long)(chunk * 3)));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Test]
        public void LargeStreamGoesThroughAnUploadSession()
        {
            client.SetUploadOptions(327680, 327680);
            string folder = Util.NewFolder("stream");
            byte[] data = Util.Bytes(1000000, 9);
            DriveItem viaStream = client.UploadStream(folder, "s.bin", new MemoryStream(data), data.Length);
            Assert.AreEqual((long)data.Length, viaStream.Size);
            // The same bytes by the simple path (raised limit) hash the same.
            client.SetUploadOptions(4 * 1024 * 1024, 327680);
            DriveItem viaBuffer = client.Upload(folder, "b.bin", data);
            Assert.AreEqual(viaBuffer.QuickXorHash, viaStream.QuickXorHash);
        }

        [Test]
        public void SessionCanBeSavedAndResumedFromJson()
        {
            string folder = Util.NewFolder("resume");
            int size = 327680 * 2 + 10;
            byte[] data = Util.Bytes(size, 11);
            string path = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(path, data);
                client.SetUploadOptions(327680, 327680);
                string saved;
                using (UploadSession s = client.CreateUploadSession(folder, "resumed.bin", size))
                {
                    Assert.AreEqual((long)size, s.Size);
                    saved = s.ToJson();
                }
                StringAssert.Contains("upload", saved);
                using (var other = emu.NewClient())
                using (UploadSession s = UploadSession.FromJson(saved))
                {
                    other.SetUploadOptions(327680, 327680);
                    DriveItem item = other.UploadFile(s, path);
                    Assert.AreEqual((long)size, item.Size);
                    Assert.AreEqual("resumed.bin", item.Name);
                }
                using (UploadSession s = client.CreateUploadSession(folder, "streamed.bin", size))
                {
                    DriveItem item = client.UploadStream(s, new MemoryStream(data));
                    Assert.AreEqual((long)size, item.Size);
                }
                using (UploadSession s = client.CreateUploadSession(folder, "dropped.bin", size))
                {
                    client.CancelUploadSession(s);
                    client.CancelUploadSession(s); // gone already: still fine
                }
                Assert.Throws<OneDriveInvalidArgumentException>(() => UploadSession.FromJson("{not json"));
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Test]
        public void CopyAndWait()
        {
            string folder = Util.NewFolder("copy");
            DriveItem src = client.Upload(folder, "src.bin", Util.Bytes(5000));
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "copy.bin"))
            {
                StringAssert.StartsWith(emu.MonitorOrigin, job.MonitorUrl);
                DriveItem copy = client.WaitJob(job, TimeSpan.FromMinutes(2));
                Assert.AreEqual("copy.bin", copy.Name);
                Assert.AreEqual(src.Size, copy.Size);
                Assert.AreEqual(src.QuickXorHash, copy.QuickXorHash);
                Assert.AreNotEqual(src.Id, copy.Id);
                Assert.AreEqual(JobState.Completed, job.LastState);
                Assert.AreEqual(copy.Id, job.GetItem().Id);
            }
        }

        [Test]
        public void CopyByIdLegacyFormAndToAnotherName()
        {
            string folder = Util.NewFolder("legacy");
            DriveItem src = client.Upload(folder, "src.bin", Util.Bytes(100));
            DriveItem parent = client.GetItem(folder);
            using (OneDriveJob job = client.Copy(src.Id, parent.Id, "legacy.bin", ConflictBehavior.Fail, drive: "/drive", legacy: true))
            {
                DriveItem copy = client.WaitJob(job);
                Assert.AreEqual("legacy.bin", copy.Name);
                Assert.AreEqual(parent.Id, copy.ParentId);
            }
        }

        [Test]
        public void PollUntilFinished()
        {
            string folder = Util.NewFolder("poll");
            client.Upload(folder, "src.bin", Util.Bytes(2000));
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "polled.bin"))
            {
                Assert.AreEqual(JobState.Unknown, job.LastState);
                JobStatus status = null;
                Util.Eventually(() => (status = client.PollJob(job)).IsFinished, "the copy to finish");
                Assert.AreEqual(JobState.Completed, status.State, status.ToString());
                Assert.IsNull(status.Error);
                Assert.AreEqual(JobState.Completed, job.LastState);
                Assert.AreEqual("polled.bin", job.GetItem().Name);
            }
        }

        [Test]
        public void JobCanBeRebuiltFromItsMonitorUrl()
        {
            string folder = Util.NewFolder("monitor");
            client.Upload(folder, "src.bin", Util.Bytes(100));
            string url;
            using (OneDriveJob job = client.Copy(folder + "/src.bin", folder, "later.bin"))
                url = job.MonitorUrl;
            using (OneDriveJob job = OneDriveJob.FromMonitorUrl(url))
            {
                Assert.AreEqual(url, job.MonitorUrl);
                Assert.Throws<OneDriveInvalidStateException>(() => job.GetItem());
                Assert.AreEqual("later.bin", client.WaitJob(job).Name);
            }
        }

        [Test]
        public void UrlUploadAndWait()
        {
            string folder = Util.NewFolder("url");
            client.Upload(folder, "placeholder.txt", Util.Bytes(1)); // the folder
            byte[] body = Util.Bytes(200000, 5);
            string source = emu.ServeStatic("cs-source-" + Guid.NewGuid().ToString("N") + ".bin", body);
            using (OneDriveJob job = client.UrlUpload(folder, "fetched.bin", source))
            {
                var rec = new PercentRecorder();
                DriveItem item = client.WaitJob(job, progress: rec);
                Assert.AreEqual("fetched.bin", item.Name);
                Assert.AreEqual((long)body.Length, item.Size);
                List<double> percents = rec.Reports;
                Assert.IsNotEmpty(percents);
                Assert.IsTrue(percents.All(p => p >= 0.0 && p <= 100.0), "job progress is a percent: " + string.Join(", ", percents));
                CollectionAssert.IsOrdered(percents);
                Assert.AreEqual(100.0, percents.Last(), "the completed job's last look");
            }
        }

        [Test]
        public void AsyncVariants()
        {
            string folder = Util.NewFolder("async");
            DriveItem up = client.UploadAsync(folder, "a.bin", Util.Bytes(300)).Result;
            Assert.AreEqual(300L, up.Size);
            Assert.AreEqual(up.Id, client.GetItemAsync(up.Id).Result.Id);
            using (OneDriveJob job = client.CopyAsync(folder + "/a.bin", folder, "b.bin").Result)
            {
                DriveItem copy = client.WaitJobAsync(job).Result;
                Assert.AreEqual("b.bin", copy.Name);
                Assert.AreEqual(JobState.Completed, client.PollJobAsync(job).Result.State);
            }
            var failed = client.GetItemAsync(folder + "/missing");
            var agg = Assert.Throws<AggregateException>(() => failed.Wait());
            Assert.IsInstanceOf<OneDriveNotFoundException>(agg.InnerException);
            Assert.IsTrue(failed.IsFaulted);

            string path = Path.GetTempFileName();
            try
            {
                File.WriteAllBytes(path, Util.Bytes(4000));
                Assert.AreEqual(4000L, client.UploadFileAsync(folder, "f.bin", path).Result.Size);
                Assert.AreEqual(10L, client.UploadStreamAsync(folder, "s.bin", new MemoryStream(Util.Bytes(10)), 10).Result.Size);
                using (var s = client.CreateUploadSessionAsync(folder, "sess.bin", 4000).Result)
                    Assert.AreEqual(4000L, client.UploadFileAsync(s, path).Result.Size);
            }
            finally
            {
                File.Delete(path);
            }
        }

        [Test]
        public void ManyThreadsShareOneClient()
        {
            string folder = Util.NewFolder("threads");
            var tasks = Enumerable.Range(0, 16)
                .Select(i => Task.Run(() => client.Upload(folder, "t" + i + ".bin", Util.Bytes(1000 + i, i))))
                .ToArray();
            Task.WaitAll(tasks);
            var ids = new HashSet<string>(tasks.Select(t => t.Result.Id));
            Assert.AreEqual(16, ids.Count);
            for (int i = 0; i < 16; i++)
                Assert.AreEqual((long)(1000 + i), tasks[i].Result.Size);
        }

        [Test]
        public void TokenCallbackRefreshesAfter401()
        {
            using (var c = new OneDriveClient(emu.BaseUrl, "stale-token"))
            {
                c.AddCaFile(emu.CaFile);
                Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/"));
                int calls = 0;
                c.SetTokenCallback(() => { Interlocked.Increment(ref calls); return Emulator.Token; });
                Assert.IsTrue(c.GetItem("/").IsFolder);
                Assert.AreEqual(1, calls);
                c.SetTokenCallback((Func<string>)null);
                c.SetToken("stale-again");
                var e = Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/"));
                Assert.AreEqual(401, e.HttpStatus);
            }
        }

        [Test]
        public void SettingsAreAccepted()
        {
            client.SetTimeouts(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
            client.SetRetry(3, TimeSpan.FromSeconds(2));
            client.SetUserAgent("onedrive-native-csharp-tests/1 ✓");
            Assert.IsTrue(client.GetItem("/").IsFolder);
        }
    }
}
