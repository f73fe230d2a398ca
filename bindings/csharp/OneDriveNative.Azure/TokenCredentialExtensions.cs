using System;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;

namespace OneDriveNative
{
    /// <summary>
    /// Plugs an Azure.Core <see cref="TokenCredential"/> (azure-identity's
    /// <c>DefaultAzureCredential</c>, <c>ClientSecretCredential</c>,
    /// <c>ManagedIdentityCredential</c>, …) into a <see cref="OneDriveClient"/>:
    /// <c>client.SetTokenCredential(new DefaultAzureCredential())</c>. In the
    /// OneDriveNative.Azure package, so OneDriveNative itself depends on
    /// nothing.
    /// </summary>
    public static class TokenCredentialExtensions
    {
        /// <summary>The scope asked for when none is given: Microsoft Graph's
        /// default scope (the app's configured permissions).</summary>
        public const string GraphDefaultScope = "https://graph.microsoft.com/.default";

        /// <summary>
        /// Takes the client's tokens from <paramref name="credential"/>: one
        /// now (so the first request already carries it), then a fresh one 5
        /// minutes before each expires and after a 401, on the thread of the
        /// request that needs it (concurrent requests share one call). The
        /// credential's own cache answers most of those calls.
        /// </summary>
        /// <param name="client">the client</param>
        /// <param name="credential">where tokens come from</param>
        /// <param name="scopes">the scopes to ask for; none: <see cref="GraphDefaultScope"/>
        /// (a national cloud's Graph has its own, e.g. <c>https://graph.microsoft.us/.default</c>)</param>
        /// <exception cref="ArgumentNullException">client or credential is null</exception>
        /// <remarks>The first token is fetched here, synchronously, and what the
        /// credential throws then (e.g. azure-identity's
        /// <c>AuthenticationFailedException</c>) comes out of this call. Later,
        /// what it throws becomes the <see cref="Exception.InnerException"/> of
        /// the <see cref="OneDriveUnauthorizedException"/> of the request that
        /// needed the token.</remarks>
        public static void SetTokenCredential(this OneDriveClient client, TokenCredential credential,
            params string[] scopes)
        {
            if (client == null) throw new ArgumentNullException("client");
            if (credential == null) throw new ArgumentNullException("credential");
            var context = new TokenRequestContext(Scopes(scopes));
            AccessToken first = credential.GetToken(context, CancellationToken.None);
            client.SetToken(first.Token, first.ExpiresOn);
            // The callback runs on a thread blocked in native code (never a
            // UI or request context): the synchronous GetToken is the right
            // call there, and cannot deadlock on a captured context.
            client.SetTokenCallback(ct =>
            {
                AccessToken t = credential.GetToken(context, ct);
                return Task.FromResult(new OneDriveAccessToken(t.Token, t.ExpiresOn));
            });
        }

        /// <summary>As <see cref="SetTokenCredential"/>, fetching the first
        /// token with <c>GetTokenAsync</c> (no thread blocked while it comes).</summary>
        public static async Task SetTokenCredentialAsync(this OneDriveClient client, TokenCredential credential,
            string[] scopes = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null) throw new ArgumentNullException("client");
            if (credential == null) throw new ArgumentNullException("credential");
            var context = new TokenRequestContext(Scopes(scopes));
            AccessToken first = await credential.GetTokenAsync(context, cancellationToken).ConfigureAwait(false);
            client.SetToken(first.Token, first.ExpiresOn);
            client.SetTokenCallback(ct =>
            {
                AccessToken t = credential.GetToken(context, ct);
                return Task.FromResult(new OneDriveAccessToken(t.Token, t.ExpiresOn));
            });
        }

        private static string[] Scopes(string[] scopes)
        {
            if (scopes == null || scopes.Length == 0) return new[] { GraphDefaultScope };
            foreach (string s in scopes)
                if (string.IsNullOrEmpty(s)) throw new ArgumentException("a scope is null or empty", "scopes");
            return (string[])scopes.Clone();
        }
    }
}
