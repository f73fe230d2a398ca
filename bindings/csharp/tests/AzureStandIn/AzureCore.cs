// TEST STAND-IN, not Azure.Core: the few Azure.Core types that
// OneDriveNative.Azure/TokenCredentialExtensions.cs uses, with Azure.Core's
// names and signatures (Azure.Core 1.x), so the adapter's source compiles and
// runs in the test assembly here, where Azure.Core cannot be fetched. Compiled
// into OneDriveNative.Tests.dll only (run_tests.sh), never shipped: the real
// package references Azure.Core (OneDriveNative.Azure.csproj).
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Azure.Core
{
    /// <summary>Stand-in of Azure.Core.AccessToken.</summary>
    public struct AccessToken
    {
        public AccessToken(string accessToken, DateTimeOffset expiresOn)
        {
            Token = accessToken;
            ExpiresOn = expiresOn;
        }

        public string Token { get; private set; }
        public DateTimeOffset ExpiresOn { get; private set; }
    }

    /// <summary>Stand-in of Azure.Core.TokenRequestContext (the members the adapter uses).</summary>
    public struct TokenRequestContext
    {
        public TokenRequestContext(string[] scopes, string parentRequestId = null)
        {
            Scopes = scopes;
            ParentRequestId = parentRequestId;
        }

        public string[] Scopes { get; private set; }
        public string ParentRequestId { get; private set; }
    }

    /// <summary>Stand-in of Azure.Core.TokenCredential.</summary>
    public abstract class TokenCredential
    {
        public abstract ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken);
        public abstract AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken);
    }
}
