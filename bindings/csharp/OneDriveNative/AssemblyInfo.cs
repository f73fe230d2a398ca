using System.Reflection;
using System.Runtime.CompilerServices;

[assembly: AssemblyTitle("OneDriveNative")]
[assembly: AssemblyDescription("C# binding of onedrive-native (upload, copy and import files on OneDrive through Microsoft Graph)")]
[assembly: AssemblyVersion("0.1.0.0")]
// The test suite checks the P/Invoke declarations and uses a test hook.
[assembly: InternalsVisibleTo("OneDriveNative.Tests")]
