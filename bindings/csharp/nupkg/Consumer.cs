// An application built against the OneDriveNative package as a restore
// leaves it: compiled against lib/netstandard2.0/OneDriveNative.dll, run
// with that assembly and runtimes/<rid>/native/libonedrive_native.so copied
// beside it (test_nupkg.sh). It uploads a file and copies it against the
// emulator (trusting its CA), and checks that what it runs is the package's:
// the assembly's and the native library's versions, the assemblies it
// references (the framework only: the nuspec lists no dependency), and the
// native library loaded from the application's directory.
//
//   EXPECTED_VERSION=0.1.0 OD_TEST_BASE_URL=… OD_TEST_TOKEN=… OD_TEST_CA_FILE=… mono consumer.exe
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using OneDriveNative;

static class NupkgConsumer
{
    /// <summary>Records reports on the reporting thread (Progress&lt;T&gt; would post them).</summary>
    sealed class Sink<T> : IProgress<T>
    {
        public readonly List<T> Reports = new List<T>();
        public void Report(T value) { lock (Reports) Reports.Add(value); }
    }

    static int checks;

    static void Check(bool ok, string what)
    {
        if (!ok) throw new Exception("nupkg consumer: FAILED: " + what);
        checks++;
        Console.WriteLine("ok   " + what);
    }

    static string Env(string name)
    {
        string v = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrEmpty(v)) throw new Exception("set " + name);
        return v;
    }

    static int Main()
    {
        try
        {
            Run();
            Console.WriteLine("nupkg consumer: " + checks + " passed, 0 failed");
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            Console.WriteLine("nupkg consumer: " + checks + " passed, 1 failed");
            return 1;
        }
    }

    static void Run()
    {
        string expected = Env("EXPECTED_VERSION");
        string appDir = AppDomain.CurrentDomain.BaseDirectory;
        Assembly asm = typeof(OneDriveClient).Assembly;
        Check(Path.GetDirectoryName(asm.Location) == appDir.TrimEnd('/'),
            "OneDriveNative.dll loaded from the application's directory (" + asm.Location + ")");
        Check(asm.GetName().Version.ToString(3) == expected, "assembly version " + asm.GetName().Version + " is " + expected);
        var framework = new[] { "mscorlib", "netstandard", "System", "System.Core" };
        string[] refs = asm.GetReferencedAssemblies().Select(r => r.Name).ToArray();
        Check(refs.All(framework.Contains), "the assembly references the framework only (" + string.Join(", ", refs) + ")");
        Check(OneDriveClient.LibraryVersion == expected, "native library version " + OneDriveClient.LibraryVersion + " is " + expected);

        string folder = "/nupkg-" + Guid.NewGuid().ToString("N").Substring(0, 8);
        var data = new byte[300000];
        new Random(7).NextBytes(data);
        using (var client = new OneDriveClient(Env("OD_TEST_BASE_URL"), Env("OD_TEST_TOKEN")))
        {
            client.AddCaFile(Env("OD_TEST_CA_FILE"));
            var bytes = new Sink<OneDriveProgress>();
            DriveItem item = client.Upload(folder, "hello.bin", data, ConflictBehavior.Replace, progress: bytes);
            Check(item.Size == data.Length && item.Name == "hello.bin", "upload: " + item.Name + ", " + item.Size + " bytes");
            OneDriveProgress last = bytes.Reports.Last();
            Check(last.Done == (long)data.Length && last.Percent == 100.0, "upload progress ends at " + last.Done + " bytes, 100 %");

            var percents = new Sink<double>();
            using (OneDriveJob job = client.Copy(item.Id, folder, "hello copy.bin"))
            {
                DriveItem copy = client.WaitJob(job, TimeSpan.FromMinutes(2), percents);
                Check(copy.Name == "hello copy.bin" && copy.Size == item.Size && copy.QuickXorHash == item.QuickXorHash,
                    "copy: " + copy.Name + ", same size and quickXorHash");
            }
            Check(percents.Reports.Count > 0 && percents.Reports.All(p => p >= 0.0 && p <= 100.0),
                "copy progress in percent: " + string.Join(" ", percents.Reports));
            Check(client.GetItem(folder + "/hello copy.bin").Size == data.Length, "the copy reads back");
#if ONEDRIVE_ASYNC_INTERFACES
            IAsyncDisposable disposable = client; // netstandard2.1's assembly: await using works
            Check(disposable.DisposeAsync().IsCompletedSuccessfully && client.IsDisposed, "IAsyncDisposable.DisposeAsync disposes");
#else
            Check(client.DisposeAsync().Wait(0) && client.IsDisposed, "DisposeAsync disposes");
#endif
        }

        // The native library the process mapped is the one beside the application.
        string mapped = File.ReadAllLines("/proc/self/maps")
            .Select(l => l.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && f[5].EndsWith("/libonedrive_native.so"))
            .Select(f => f[5]).Distinct().SingleOrDefault();
        Check(mapped == Path.Combine(appDir, "libonedrive_native.so"),
            "libonedrive_native.so mapped from the application's directory (" + mapped + ")");
    }
}
