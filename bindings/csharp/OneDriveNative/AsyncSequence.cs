#if ONEDRIVE_ASYNC_INTERFACES
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace OneDriveNative
{
    /// <summary>One enumeration's source of items: the next one (null: the
    /// end), and what to free when the enumeration ends.</summary>
    internal interface IAsyncSource<T> : IDisposable where T : class
    {
        Task<T> NextAsync(CancellationToken cancellationToken);
    }

    /// <summary>An <c>IAsyncEnumerable</c> over a source opened afresh for each
    /// enumeration (mcs compiles no async iterators, so it is written out).
    /// The token given when the sequence was made and the one given to
    /// <c>GetAsyncEnumerator</c> (<c>WithCancellation</c>) both stop it.</summary>
    internal sealed class AsyncSequence<T> : IAsyncEnumerable<T> where T : class
    {
        private readonly Func<IAsyncSource<T>> open;
        private readonly CancellationToken token;

        internal AsyncSequence(Func<IAsyncSource<T>> open, CancellationToken token)
        {
            this.open = open;
            this.token = token;
        }

        public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (!cancellationToken.CanBeCanceled) return new Enumerator(open, token, null);
            if (!token.CanBeCanceled) return new Enumerator(open, cancellationToken, null);
            var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
            return new Enumerator(open, linked.Token, linked);
        }

        private sealed class Enumerator : IAsyncEnumerator<T>
        {
            private readonly Func<IAsyncSource<T>> open;
            private readonly CancellationToken token;
            private readonly CancellationTokenSource linked;
            private IAsyncSource<T> source;

            internal Enumerator(Func<IAsyncSource<T>> open, CancellationToken token, CancellationTokenSource linked)
            {
                this.open = open;
                this.token = token;
                this.linked = linked;
            }

            public T Current { get; private set; }

            public ValueTask<bool> MoveNextAsync() { return new ValueTask<bool>(Next()); }

            private async Task<bool> Next()
            {
                if (source == null) source = open();
                Current = await source.NextAsync(token).ConfigureAwait(false);
                return Current != null;
            }

            public ValueTask DisposeAsync()
            {
                if (source != null) source.Dispose();
                if (linked != null) linked.Dispose();
                return default(ValueTask);
            }
        }
    }
}
#endif
