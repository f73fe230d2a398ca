using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace OneDriveNative
{
    /// <summary>
    /// The children of a folder, read one at a time (<c>od_listing</c>): it
    /// holds one page of items and fetches the next page when that one is used
    /// up, so memory is bounded by a page whatever the folder holds. From
    /// <see cref="OneDriveClient.OpenListing"/>; <see cref="OneDriveClient.List"/>
    /// and <c>OneDriveClient.ListAsync</c> (netstandard2.1) wrap it as
    /// <c>IEnumerable</c> / <c>IAsyncEnumerable</c>.
    ///
    /// <code>
    /// using (OneDriveListing listing = client.OpenListing("/Documents"))
    ///     for (DriveItem item; (item = await listing.NextAsync()) != null; )
    ///         Console.WriteLine(item.Name);
    /// </code>
    ///
    /// Calls on one listing are serialised by the library (a second thread
    /// waits for the first). Dispose it when done; one never disposed is freed
    /// by its finalizer. The items it gave stay valid.
    /// </summary>
    public sealed class OneDriveListing : IDisposable
#if ONEDRIVE_ASYNC_INTERFACES
        , IAsyncSource<DriveItem>
#endif
    {
        internal readonly ListingHandle Handle;

        internal OneDriveListing(ListingHandle handle) { Handle = handle; }

        /// <summary>The next child, or null at the end (and on every call
        /// after it). Blocks while a page is fetched (the client's retries
        /// and timeouts apply). A folder that does not exist throws
        /// <see cref="OneDriveNotFoundException"/> here, at the first call.
        /// After an error the listing is over (null from then on), except
        /// after a cancellation, when the same page can be asked for again.</summary>
        public DriveItem Next(CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            using (var call = new CallContext(null, null, cancellationToken))
            {
                ItemHandle h;
                int st = NativeMethods.od_list_next(Handle, call.Cancel, out h);
                return OneDriveClient.TakeItem(st, h, call);
            }
        }

        /// <summary><see cref="Next"/> on the thread pool: the next child, or
        /// null at the end. One call at a time per listing makes sense (they
        /// are serialised anyway).</summary>
        public Task<DriveItem> NextAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return AsyncRunner.Run(() => Next(cancellationToken), cancellationToken);
        }

        public bool IsDisposed { get { return Handle.IsClosed; } }

        /// <summary>Frees the listing once no call is using it. Safe to call twice.</summary>
        public void Dispose() { Handle.Dispose(); }

        internal void ThrowIfDisposed()
        {
            if (Handle.IsClosed) throw new ObjectDisposedException("OneDriveListing");
        }

        /// <summary>Every remaining child, page by page, on the calling thread.</summary>
        internal IEnumerable<DriveItem> Remaining(CancellationToken cancellationToken)
        {
            for (DriveItem item; (item = Next(cancellationToken)) != null;)
                yield return item;
        }
    }
}
