// Issue 24's C# points: progress in long, the token callback's exception as
// the 401's inner exception, argument errors as ArgumentException, async
// calls on the thread pool, DisposeAsync / IAsyncDisposable, and the Azure.Core
// TokenCredential adapter (OneDriveNative.Azure, compiled here against the
// tests' stand-in of Azure.Core: tests/AzureStandIn).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    [TestFixture]
    public class CSharpHabitsTests : EmulatorTest
    {
        private OneDriveClient NewClient(string token)
        {
            var c = new OneDriveClient(emu.BaseUrl, token);
            c.AddCaFile(emu.CaFile);
            return c;
        }

        [Test]
        public void ProgressIsInLongLikeSizes()
        {
            string folder = Util.NewFolder("long");
            var data = Util.Bytes(5000);
            long? remaining = null;
            var rec = new Recorder(p => remaining = data.LongLength - p.Done);
            DriveItem item = client.Upload(folder, "a.bin", data, progress: rec);
            OneDriveProgress last = rec.Reports.Last();
            // ordinary arithmetic with DriveItem.Size (long?) compiles and adds up
            long? left = item.Size - last.Done;
            Assert.AreEqual(0L, left);
            Assert.AreEqual(0L, remaining);
            Assert.AreEqual(item.Size, last.Total);
            Assert.Throws<ArgumentOutOfRangeException>(() => new OneDriveProgress(-1, 10));
        }

        [Test]
        public void TheTokenCallbacksExceptionIsTheInnerExceptionOfThe401()
        {
            using (var c = NewClient("wrong-token"))
            {
                var boom = new InvalidOperationException("the credential store is locked");
                c.SetTokenCallback(() => { throw boom; });
                var e = Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/"));
                Assert.AreSame(boom, e.InnerException);
                Assert.AreEqual(401, e.HttpStatus);
                // the async variant too: the task's exception, unwrapped
                var boom2 = new TimeoutException("no answer from the identity provider");
                c.SetTokenCallback(async ct => { await Task.Yield(); throw boom2; });
                var e2 = Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/"));
                Assert.AreSame(boom2, e2.InnerException);
                // and through an …Async call, which runs on a pool thread
                var agg = Assert.Throws<AggregateException>(() => c.GetItemAsync("/").Wait());
                Assert.AreSame(boom2, agg.InnerException.InnerException);
                // a callback that gives no token and throws nothing: a 401 alone
                c.SetTokenCallback(() => null);
                Assert.IsNull(Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/")).InnerException);
            }
        }

        [Test]
        public void AThrowingCallbackWhoseOldTokenStillServedLeavesNoStaleInnerException()
        {
            using (var c = NewClient(Emulator.Token))
            {
                // inside the 5-minute margin: the callback is asked before the request
                c.SetToken(Emulator.Token, DateTimeOffset.UtcNow.AddSeconds(60));
                int calls = 0;
                c.SetTokenCallback(() => { Interlocked.Increment(ref calls); throw new InvalidOperationException("no"); });
                Assert.IsTrue(c.GetItem("/").IsFolder); // the old token still served
                Assert.GreaterOrEqual(calls, 1);
                var e = Assert.Throws<OneDriveNotFoundException>(() => c.GetItem("/no-such-" + Guid.NewGuid().ToString("N")));
                Assert.IsNull(e.InnerException);
            }
        }

        [Test]
        public void ArgumentErrorsAreArgumentExceptions()
        {
            string folder = Util.NewFolder("argexc");
            var e = Assert.Throws<OneDriveInvalidNameException>(() => client.CreateFolder(folder, "a|b", parents: true));
            Assert.IsInstanceOf<ArgumentException>(e);
            Assert.IsInstanceOf<OneDriveInvalidArgumentException>(e);
            IOneDriveError d = e;
            Assert.AreEqual(OneDriveStatus.InvalidName, d.Status);
            Assert.AreEqual(0, d.HttpStatus);
            StringAssert.Contains("InvalidName", e.ToString());
            // catch (ArgumentException) takes it, as Azure's and Graph's own checks
            try
            {
                client.Upload(folder, "x:y.txt", new byte[1]);
                Assert.Fail("no exception");
            }
            catch (ArgumentException a)
            {
                Assert.AreEqual(OneDriveStatus.InvalidName, ((IOneDriveError)a).Status);
            }
            var bad = Assert.Throws<OneDriveInvalidArgumentException>(() => client.SetProxy("ftp://127.0.0.1:1"));
            Assert.IsInstanceOf<ArgumentException>(bad);
            // every other error is a OneDriveException, and an IOneDriveError too
            IOneDriveError nf = Assert.Throws<OneDriveNotFoundException>(() => client.GetItem(folder + "/nothing"));
            Assert.AreEqual(404, nf.HttpStatus);
        }

        [Test]
        public void AsyncCallsRunOnThePoolManyAtOnce()
        {
            string folder = Util.NewFolder("pool");
            client.CreateFolder("/", folder.TrimStart('/'));
            const int n = 8;
            var onPool = new ConcurrentBag<bool>();
            var tasks = new List<Task<DriveItem>>();
            for (int i = 0; i < n; i++)
            {
                var rec = new Recorder(p => onPool.Add(Thread.CurrentThread.IsThreadPoolThread));
                tasks.Add(client.UploadAsync(folder, "f" + i + ".bin", Util.Bytes(2000 + i, i), progress: rec));
            }
            Assert.IsTrue(Task.WaitAll(tasks.ToArray(), TimeSpan.FromMinutes(2)), "hang guard");
            for (int i = 0; i < n; i++) Assert.AreEqual(2000L + i, tasks[i].Result.Size);
            Assert.IsNotEmpty(onPool);
            Assert.IsTrue(onPool.All(x => x), "progress was reported on a thread that is not the pool's: a dedicated thread");
            // a job wait too (it used to take a thread of its own)
            bool waitedOnPool = false;
            using (var job = client.Copy(folder + "/f0.bin", folder, "copy.bin"))
            {
                var copy = client.WaitJobAsync(job, TimeSpan.FromMinutes(1),
                    new PercentRecorder(_ => waitedOnPool = Thread.CurrentThread.IsThreadPoolThread)).Result;
                Assert.AreEqual(2000L, copy.Size);
            }
            Assert.IsTrue(waitedOnPool);
        }

        [Test]
        public void DisposeAsyncDisposesAndTheClientIsAnIAsyncDisposable()
        {
            var c = NewClient(Emulator.Token);
            IAsyncDisposable d = c;
            Assert.IsTrue(d.DisposeAsync().IsCompleted);
            Assert.IsTrue(c.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => c.GetItem("/"));
            Assert.IsTrue(c.DisposeAsync().IsCompletedSuccessfully); // twice is harmless
        }

        [Test]
        public void DisposeAsyncWaitsForNoCallButTheCallStillCompletes()
        {
            var c = NewClient(Emulator.Token);
            string folder = Util.NewFolder("dispose-async");
            var gate = new ManualResetEventSlim();
            var started = new ManualResetEventSlim();
            Task<DriveItem> upload = c.UploadAsync(folder, "a.bin", Util.Bytes(3000), progress: new Recorder(_ =>
            {
                started.Set();
                gate.Wait(TimeSpan.FromMinutes(1));
            }));
            Assert.IsTrue(started.Wait(TimeSpan.FromMinutes(1)), "hang guard");
            Assert.IsTrue(c.DisposeAsync().IsCompleted); // does not wait for the upload
            gate.Set();
            Assert.AreEqual(3000L, upload.Result.Size); // the running call kept the native client alive
            Assert.IsTrue(c.IsDisposed);
        }
    }

    /// <summary>A credential as azure-identity's behave: counts its calls,
    /// records the scopes, hands out a token with an expiry, or throws.</summary>
    public sealed class FakeCredential : TokenCredential
    {
        public int Calls;
        public int AsyncCalls;
        public string[] LastScopes;
        public Func<int, AccessToken> Next;

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            LastScopes = requestContext.Scopes;
            return Next(Interlocked.Increment(ref Calls));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref AsyncCalls);
            return new ValueTask<AccessToken>(GetToken(requestContext, cancellationToken));
        }
    }

    [TestFixture]
    public class AzureCredentialTests : EmulatorTest
    {
        private OneDriveClient NoTokenClient()
        {
            var c = new OneDriveClient(emu.BaseUrl);
            c.AddCaFile(emu.CaFile);
            return c;
        }

        [Test]
        public void ACredentialGivesTheFirstTokenAtOnceAndRefreshesBeforeExpiry()
        {
            emu.ClearRequests();
            using (var c = NoTokenClient())
            {
                var cred = new FakeCredential { Next = n => new AccessToken(Emulator.Token, DateTimeOffset.UtcNow.AddHours(1)) };
                c.SetTokenCredential(cred);
                Assert.AreEqual(1, cred.Calls);
                CollectionAssert.AreEqual(new[] { TokenCredentialExtensions.GraphDefaultScope }, cred.LastScopes);
                Assert.IsTrue(c.GetItem("/").IsFolder);
                Assert.AreEqual(1, cred.Calls, "an hour left: the credential is not asked again");
                Assert.IsFalse(emu.Requests().Any(r => r.Status == 401), "the first request already had the token");

                // a token inside the 5-minute margin is refreshed before the next request
                cred.Next = n => new AccessToken(Emulator.Token, DateTimeOffset.UtcNow.AddMinutes(n == 2 ? 1 : 60));
                c.SetTokenCredential(cred, "https://graph.microsoft.us/.default");
                Assert.AreEqual(2, cred.Calls);
                CollectionAssert.AreEqual(new[] { "https://graph.microsoft.us/.default" }, cred.LastScopes);
                Assert.IsTrue(c.GetItem("/").IsFolder);
                Assert.AreEqual(3, cred.Calls);
            }
        }

        [Test]
        public void AWrongTokenIsReplacedAfterThe401()
        {
            using (var c = NoTokenClient())
            {
                var cred = new FakeCredential
                {
                    Next = n => new AccessToken(n == 1 ? "revoked" : Emulator.Token, DateTimeOffset.UtcNow.AddHours(1)),
                };
                c.SetTokenCredentialAsync(cred).Wait();
                Assert.AreEqual(1, cred.AsyncCalls);
                Assert.IsTrue(c.GetItem("/").IsFolder);
                Assert.AreEqual(2, cred.Calls);
            }
        }

        [Test]
        public void WhatTheCredentialThrowsComesOut()
        {
            using (var c = NoTokenClient())
            {
                var failure = new InvalidOperationException("AuthenticationFailedException stand-in");
                var cred = new FakeCredential { Next = n => { throw failure; } };
                // the first token: out of SetTokenCredential itself
                Assert.AreSame(failure, Assert.Throws<InvalidOperationException>(() => c.SetTokenCredential(cred)));
                // later: the inner exception of the request's 401
                cred.Next = n => n == 2 ? new AccessToken("revoked", DateTimeOffset.UtcNow.AddHours(1)) : Throw(failure);
                c.SetTokenCredential(cred);
                var e = Assert.Throws<OneDriveUnauthorizedException>(() => c.GetItem("/"));
                Assert.AreSame(failure, e.InnerException);
                Assert.Throws<ArgumentNullException>(() => c.SetTokenCredential(null));
                Assert.Throws<ArgumentException>(() => c.SetTokenCredential(cred, ""));
            }
        }

        private static AccessToken Throw(Exception e) { throw e; }
    }
}
