// The C# binding against include/onedrive.abi.json (the header as parsed by
// tools/abi.py), by reflection over the compiled OneDriveNative.dll. It
// reports the three kinds of drift every binding's check reports:
//   1. a header function with no [DllImport] declaration (or one the header lacks);
//   2. a declaration whose arity or types differ (functions and callback delegates);
//   3. a constant or enum value that differs.
// The NUnit fixture AbiContractTests runs it; it also runs on its own:
//   mono AbiContract.exe OneDriveNative.dll include/onedrive.abi.json
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace OneDriveNative.Tests
{
    public static class AbiContract
    {
        const BindingFlags All = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;

        public static Dictionary<string, object> Load(string path)
        {
            return (Dictionary<string, object>)Json.Parse(File.ReadAllText(path));
        }

        static Dictionary<string, object> Obj(object o, string key) { return (Dictionary<string, object>)((Dictionary<string, object>)o)[key]; }

        /// <summary>OD_ERR_NOT_FOUND -> NotFound with prefix "OD_ERR_".</summary>
        public static string Pascal(string constant, string prefix)
        {
            var sb = new StringBuilder();
            foreach (string part in constant.Substring(prefix.Length).Split('_'))
                if (part.Length > 0) sb.Append(char.ToUpperInvariant(part[0])).Append(part.Substring(1).ToLowerInvariant());
            return sb.ToString();
        }

        /// <summary>od_progress_fn -> OdProgressFn, the delegate for a C callback type.</summary>
        static string DelegateName(string c) { return "Od" + Pascal(c, "od_"); }

        static string EntryPoint(MethodInfo m)
        {
            var attr = m.GetCustomAttributes(typeof(DllImportAttribute), false).Cast<DllImportAttribute>().FirstOrDefault();
            return attr != null && !string.IsNullOrEmpty(attr.EntryPoint) ? attr.EntryPoint : m.Name;
        }

        public static List<string> Problems(Assembly lib, Dictionary<string, object> abi)
        {
            var problems = new List<string>();
            var functions = Obj(abi, "functions");
            Type native = lib.GetType("OneDriveNative.NativeMethods", true);
            var pinvokes = native.GetMethods(All).Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0).ToList();
            var declared = new HashSet<string>(pinvokes.Select(EntryPoint));

            // 1. every header function declared, none stale
            foreach (string f in functions.Keys)
                if (!declared.Contains(f)) problems.Add(f + ": in the header, no [DllImport] in NativeMethods");
            foreach (string f in declared)
                if (!functions.ContainsKey(f)) problems.Add(f + ": declared in NativeMethods, not in the header");

            // 2. arity and types
            foreach (var m in pinvokes)
            {
                object fo;
                if (functions.TryGetValue(EntryPoint(m), out fo))
                    Compare(EntryPoint(m) + " (" + m.Name + ")", (Dictionary<string, object>)fo, m, abi, problems);
            }
            foreach (var cb in Obj(abi, "callbacks"))
            {
                Type d = lib.GetType("OneDriveNative." + DelegateName(cb.Key));
                if (d == null || !typeof(Delegate).IsAssignableFrom(d))
                    problems.Add(cb.Key + ": no delegate " + DelegateName(cb.Key));
                else
                    Compare(cb.Key, (Dictionary<string, object>)cb.Value, d.GetMethod("Invoke"), abi, problems);
            }

            // 3. constants and enum values
            var enums = Obj(abi, "enums");
            Func<string, Dictionary<string, object>> values = e => Obj(enums[e], "values");
            CheckEnum(problems, values("od_status"), "OD_ERR_", lib.GetType("OneDriveNative.OneDriveStatus", true), "OD_OK", "Ok");
            CheckEnum(problems, values("od_job_state"), "OD_JOB_", lib.GetType("OneDriveNative.JobState", true));
            CheckEnum(problems, values("od_conflict"), "OD_CONFLICT_", lib.GetType("OneDriveNative.ConflictBehavior", true));
            var lastError = lib.GetType("OneDriveNative.LastError", true);
            foreach (var kv in values("od_error_field"))
                CheckConst(problems, kv.Key, (long)kv.Value, lastError, "Field" + Pascal(kv.Key, "OD_ERROR_"));
            var constants = Obj(abi, "constants");
            var hashes = lib.GetType("OneDriveNative.HashChecks", true);
            foreach (var kv in constants.Where(kv => kv.Key.StartsWith("OD_HASH_")))
                CheckConst(problems, kv.Key, (long)kv.Value, hashes, Pascal(kv.Key, "OD_HASH_"));
            // Flags and log levels must be declared (OneDriveLogLevel takes its
            // numbers from the OD_LOG_* ones); every OD_* declared is checked below.
            var required = new[] { "OD_CLIENT_ALLOW_INSECURE_HTTP", "OD_COPY_LEGACY" }
                .Concat(constants.Keys.Where(k => k.StartsWith("OD_LOG_")));
            foreach (string flag in required)
                if (native.GetField(flag, All) == null) problems.Add(flag + ": no NativeMethods." + flag);
            foreach (var field in native.GetFields(All).Where(f => f.IsLiteral && f.Name.StartsWith("OD_")))
            {
                object want;
                if (!constants.TryGetValue(field.Name, out want))
                    problems.Add("NativeMethods." + field.Name + ": the header has no such constant");
                else
                    CheckConst(problems, field.Name, (long)want, native, field.Name);
            }
            return problems;
        }

        static void CheckConst(List<string> problems, string c, long want, Type t, string member)
        {
            object got = null;
            var field = t.GetField(member, All);
            if (field != null && field.IsLiteral) got = field.GetRawConstantValue();
            if (got == null || Convert.ToInt64(got) != want)
                problems.Add(c + " = " + want + " in the header, " + t.Name + "." + member + " = " + (got ?? "(missing)"));
        }

        static void CheckEnum(List<string> problems, Dictionary<string, object> values, string prefix, Type t,
                              string special = null, string specialName = null)
        {
            var wanted = new HashSet<string>();
            foreach (var kv in values)
            {
                string name = kv.Key == special ? specialName : Pascal(kv.Key, prefix);
                wanted.Add(name);
                CheckConst(problems, kv.Key, (long)kv.Value, t, name);
            }
            foreach (string name in System.Enum.GetNames(t))
                if (!wanted.Contains(name)) problems.Add(t.Name + "." + name + ": the header has no such value");
        }

        static void Compare(string what, Dictionary<string, object> c, MethodInfo m, Dictionary<string, object> abi, List<string> problems)
        {
            var cParams = (List<object>)c["params"];
            var ps = m.GetParameters();
            if (ps.Length != cParams.Count)
            {
                problems.Add(what + ": " + cParams.Count + " arguments in the header, " + ps.Length + " in C#");
                return;
            }
            for (int i = 0; i < ps.Length; i++)
            {
                var p = (Dictionary<string, object>)cParams[i];
                string why = Compatible((string)p["type"], ps[i].ParameterType, abi);
                if (why != null) problems.Add(what + " argument " + i + " (" + p["name"] + "): " + why);
            }
            string rwhy = Compatible((string)c["return"], m.ReturnType, abi);
            if (rwhy != null) problems.Add(what + " result: " + rwhy);
        }

        /// <summary>null when a C# parameter type can carry the C type.</summary>
        static string Compatible(string c, Type t, Dictionary<string, object> abi)
        {
            Type elem = t.IsByRef ? t.GetElementType() : t;
            string bare = c.Replace("const ", "").Replace(" const", "");
            string baseType = bare.TrimEnd('*', ' ');
            int stars = bare.Length - bare.Replace("*", "").Length;
            var enums = Obj(abi, "enums");
            if (enums.ContainsKey(baseType)) baseType = (string)Obj(enums, baseType)["type"];
            Func<bool, string> need = ok => ok ? null : "C " + c + " vs C# " + t.Name;
            if (Obj(abi, "callbacks").ContainsKey(baseType) && stars == 0)
                return need(elem.Name == DelegateName(baseType));
            if (((List<object>)abi["opaque"]).Contains(baseType))
            {
                if (stars != 1 + (t.IsByRef ? 1 : 0)) return need(false);
                string handle = Pascal(baseType, "od_") + "Handle";
                return need(elem == typeof(IntPtr) || (typeof(SafeHandle).IsAssignableFrom(elem) && elem.Name == handle));
            }
            switch (baseType + new string('*', stars))
            {
                case "void": return need(t == typeof(void));
                case "bool": return need(t == typeof(bool));
                case "int": case "int32_t": return need(t == typeof(int));
                case "uint32_t": return need(t == typeof(uint));
                case "int64_t": return need(t == typeof(long));
                case "uint64_t": return need(t == typeof(ulong));
                case "size_t": return need(t == typeof(UIntPtr));
                case "double": return need(t == typeof(double));
                case "void*": return need(t == typeof(IntPtr));
                case "char*": case "uint8_t*": return need(t == typeof(byte[]) || t == typeof(IntPtr));
                case "char**": return need(t.IsByRef && elem == typeof(IntPtr));
                case "size_t*": return need(t.IsByRef && elem == typeof(UIntPtr));
                case "double*": return need(t.IsByRef && elem == typeof(double));
                case "int32_t*": return need(t.IsByRef && elem == typeof(int));
            }
            return "a C type AbiContract does not know: " + c + " (teach AbiContract.Compatible)";
        }

        public static int Main(string[] args)
        {
            if (args.Length != 2)
            {
                Console.Error.WriteLine("usage: AbiContract.exe OneDriveNative.dll onedrive.abi.json");
                return 2;
            }
            var problems = Problems(Assembly.LoadFrom(args[0]), Load(args[1]));
            foreach (string p in problems) Console.WriteLine("FAIL " + p);
            Console.WriteLine("csharp abi check: " + problems.Count + " problem(s)");
            return problems.Count == 0 ? 0 : 1;
        }
    }
}
