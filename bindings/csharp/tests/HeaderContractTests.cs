// The binding against include/onedrive.h, read at test time (the header may
// grow): every od_status constant is mapped, no stale one is left, and every
// P/Invoke declaration names a function the header has, with the same number
// of arguments, each of a compatible kind.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace OneDriveNative.Tests
{
    public static class Header
    {
        public sealed class Function
        {
            public string Name;
            public string Return;
            public List<string> Params = new List<string>();
        }

        private static string text;

        /// <summary>The header without comments and preprocessor lines.</summary>
        public static string Text
        {
            get
            {
                if (text == null)
                {
                    string raw = File.ReadAllText(Util.HeaderPath);
                    raw = Regex.Replace(raw, @"/\*.*?\*/", " ", RegexOptions.Singleline);
                    raw = Regex.Replace(raw, @"//[^\n]*", " ");
                    raw = Regex.Replace(raw, @"^[ \t]*#[^\n]*", " ", RegexOptions.Multiline);
                    text = raw;
                }
                return text;
            }
        }

        public static Dictionary<string, int> Enum(string name)
        {
            var m = Regex.Match(Text, @"enum\s+" + name + @"\s*(?::\s*\w+\s*)?\{(.*?)\}", RegexOptions.Singleline);
            Assert.IsTrue(m.Success, "enum " + name + " not found in " + Util.HeaderPath);
            var result = new Dictionary<string, int>();
            foreach (Match c in Regex.Matches(m.Groups[1].Value, @"\b([A-Z][A-Z0-9_]*)\s*=\s*(-?\d+)"))
                result[c.Groups[1].Value] = int.Parse(c.Groups[2].Value);
            Assert.IsNotEmpty(result, "enum " + name + " has no constants");
            return result;
        }

        public static Dictionary<string, Function> Functions()
        {
            var result = new Dictionary<string, Function>();
            string flat = Regex.Replace(Text, @"\s+", " ");
            // Function pointer typedefs have "(*" and are not declarations.
            foreach (Match m in Regex.Matches(flat, @"([A-Za-z_][A-Za-z0-9_ \*]*?)\b(od_[a-z0-9_]+)\s*\(([^()]*)\)\s*;"))
            {
                var f = new Function { Name = m.Groups[2].Value, Return = Norm(m.Groups[1].Value) };
                if (f.Return.StartsWith("typedef")) continue;
                string ps = m.Groups[3].Value.Trim();
                if (ps != "void" && ps != "")
                {
                    foreach (string p in ps.Split(','))
                    {
                        // drop the parameter's name: the last identifier
                        string t = Regex.Replace(p.Trim(), @"\b[A-Za-z_][A-Za-z0-9_]*\s*$", "");
                        f.Params.Add(Norm(t));
                    }
                }
                result[f.Name] = f;
            }
            Assert.That(result.Count, Is.GreaterThan(10), "too few functions parsed from the header");
            return result;
        }

        private static string Norm(string t)
        {
            t = Regex.Replace(t, @"\s*\*", " *").Trim();
            return Regex.Replace(t, @"\s+", " ");
        }

        /// <summary>OD_ERR_NOT_FOUND -> NotFound, OD_OK -> Ok.</summary>
        public static string StatusName(string c)
        {
            string rest = c.StartsWith("OD_ERR_") ? c.Substring(7) : c.Substring(3);
            var sb = new StringBuilder();
            foreach (string part in rest.Split('_'))
                if (part.Length > 0) sb.Append(char.ToUpperInvariant(part[0])).Append(part.Substring(1).ToLowerInvariant());
            return sb.ToString();
        }
    }

    [TestFixture]
    public class HeaderContractTests
    {
        [Test]
        public void EveryStatusInTheHeaderIsMapped()
        {
            var missing = new List<string>();
            foreach (var kv in Header.Enum("od_status"))
            {
                string name = Header.StatusName(kv.Key);
                object value;
                try { value = System.Enum.Parse(typeof(OneDriveStatus), name); }
                catch (ArgumentException) { missing.Add(kv.Key + " (= " + kv.Value + ", expected OneDriveStatus." + name + ")"); continue; }
                if ((int)value != kv.Value) missing.Add(kv.Key + ": header " + kv.Value + ", binding " + (int)value);
            }
            Assert.IsEmpty(missing, "od_status constants not mapped in OneDriveStatus: " + string.Join("; ", missing));
        }

        [Test]
        public void NoStatusOutsideTheHeader()
        {
            var header = Header.Enum("od_status");
            var byName = header.ToDictionary(kv => Header.StatusName(kv.Key), kv => kv.Value);
            foreach (OneDriveStatus s in System.Enum.GetValues(typeof(OneDriveStatus)))
            {
                Assert.IsTrue(byName.ContainsKey(s.ToString()), "OneDriveStatus." + s + " is not in the header");
                Assert.AreEqual(byName[s.ToString()], (int)s, "OneDriveStatus." + s);
            }
        }

        [Test]
        public void EveryStatusHasItsExceptionAndText()
        {
            foreach (var kv in Header.Enum("od_status"))
            {
                var s = (OneDriveStatus)kv.Value;
                var e = OneDriveException.Create(s, "m", 0, null, null, null, null);
                Assert.AreEqual(s, e.Status, kv.Key);
                Assert.IsTrue(OneDriveClient.StatusText(s).StartsWith(kv.Key), kv.Key + ": " + OneDriveClient.StatusText(s));
            }
            Assert.IsInstanceOf<OneDriveNotFoundException>(OneDriveException.Create(OneDriveStatus.NotFound, "m", 404, null, null, null, null));
            Assert.IsInstanceOf<OneDriveConflictException>(OneDriveException.Create(OneDriveStatus.Conflict, "m", 409, null, null, null, null));
            Assert.IsInstanceOf<OneDriveThrottledException>(OneDriveException.Create(OneDriveStatus.Throttled, "m", 429, null, null, null, null));
            Assert.IsInstanceOf<OneDriveInvalidNameException>(OneDriveException.Create(OneDriveStatus.InvalidName, "m", 0, null, null, null, null));
        }

        [Test]
        public void OtherEnumsMatchTheHeader()
        {
            Check<JobState>("od_job_state", "OD_JOB_");
            Check<ConflictBehavior>("od_conflict", "OD_CONFLICT_");
            var fields = Header.Enum("od_error_field");
            Assert.AreEqual(fields["OD_ERROR_MESSAGE"], LastError.FieldMessage);
            Assert.AreEqual(fields["OD_ERROR_CODE"], LastError.FieldCode);
            Assert.AreEqual(fields["OD_ERROR_INNER_CODE"], LastError.FieldInnerCode);
            Assert.AreEqual(fields["OD_ERROR_REQUEST_ID"], LastError.FieldRequestId);
        }

        [Test]
        public void FlagsMatchTheHeader()
        {
            string raw = File.ReadAllText(Util.HeaderPath);
            var defines = new Dictionary<string, int>();
            foreach (Match m in Regex.Matches(raw, @"#define\s+(OD_[A-Z0-9_]+)\s+(\d+)"))
                defines[m.Groups[1].Value] = int.Parse(m.Groups[2].Value);
            Assert.AreEqual(defines["OD_HASH_SHA1"], (int)HashChecks.Sha1);
            Assert.AreEqual(defines["OD_HASH_SHA256"], (int)HashChecks.Sha256);
            // OneDriveClient passes these as 1 for allowInsecureHttp / legacy.
            Assert.AreEqual(1, defines["OD_CLIENT_ALLOW_INSECURE_HTTP"]);
            Assert.AreEqual(1, defines["OD_COPY_LEGACY"]);
        }

        private static void Check<T>(string cname, string prefix)
        {
            foreach (var kv in Header.Enum(cname))
            {
                string name = Header.StatusName("OD_" + kv.Key.Substring(prefix.Length));
                object value = System.Enum.Parse(typeof(T), name);
                Assert.AreEqual(kv.Value, Convert.ToInt32(value), cname + "." + kv.Key);
            }
            Assert.AreEqual(Header.Enum(cname).Count, System.Enum.GetValues(typeof(T)).Length, cname + " size");
        }

        private static IEnumerable<MethodInfo> PInvokes()
        {
            return typeof(NativeMethods).GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
                .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0);
        }

        private static string EntryPoint(MethodInfo m)
        {
            var attr = m.GetCustomAttributes(typeof(DllImportAttribute), false).Cast<DllImportAttribute>().FirstOrDefault();
            return attr != null && !string.IsNullOrEmpty(attr.EntryPoint) ? attr.EntryPoint : m.Name;
        }

        [Test]
        public void EveryPInvokeIsInTheHeaderWithTheSameArguments()
        {
            var functions = Header.Functions();
            var problems = new List<string>();
            int checkedCount = 0;
            foreach (var m in PInvokes())
            {
                string entry = EntryPoint(m);
                Header.Function f;
                if (!functions.TryGetValue(entry, out f))
                {
                    problems.Add(m.Name + ": the header has no " + entry);
                    continue;
                }
                var ps = m.GetParameters();
                if (ps.Length != f.Params.Count)
                {
                    problems.Add(entry + ": " + ps.Length + " arguments in C#, " + f.Params.Count + " in the header");
                    continue;
                }
                for (int i = 0; i < ps.Length; i++)
                {
                    string why = Compatible(f.Params[i], ps[i].ParameterType);
                    if (why != null) problems.Add(entry + " argument " + (i + 1) + " (" + ps[i].Name + "): " + why);
                }
                string rwhy = Compatible(f.Return, m.ReturnType);
                if (rwhy != null) problems.Add(entry + " result: " + rwhy);
                checkedCount++;
            }
            Assert.IsEmpty(problems, string.Join("\n", problems));
            Assert.That(checkedCount, Is.GreaterThanOrEqualTo(40));
        }

        [Test]
        public void HeaderFunctionsNotYetWrappedAreListed()
        {
            // Informational: the header may grow before the binding does.
            var wrapped = new HashSet<string>(PInvokes().Select(EntryPoint));
            var missing = Header.Functions().Keys.Where(k => !wrapped.Contains(k)).OrderBy(k => k).ToList();
            if (missing.Count > 0)
                Console.WriteLine("note: header functions without a C# declaration yet: " + string.Join(", ", missing));
            Assert.Pass(missing.Count + " header functions not wrapped");
        }

        /// <summary>null when a C# parameter type can carry the C type.</summary>
        private static string Compatible(string c, Type t)
        {
            Type elem = t.IsByRef ? t.GetElementType() : t;
            Func<bool, string> need = ok => ok ? null : "C " + c + " vs C# " + t.Name;
            c = c.Replace("const ", "");
            switch (c)
            {
                case "void": return need(t == typeof(void));
                case "bool": return need(t == typeof(bool));
                case "int32_t": case "int": case "od_status": case "od_job_state": case "od_error_field": case "od_conflict":
                    return need(t == typeof(int));
                case "uint32_t": return need(t == typeof(uint));
                case "int64_t": return need(t == typeof(long));
                case "uint64_t": return need(t == typeof(ulong));
                case "size_t": return need(t == typeof(UIntPtr));
                case "double": return need(t == typeof(double));
                case "void *": return need(t == typeof(IntPtr));
                case "char *": case "uint8_t *": return need(t == typeof(byte[]) || t == typeof(IntPtr));
                case "char * *": return need(t.IsByRef && elem == typeof(IntPtr));
                case "size_t *": return need(t.IsByRef && elem == typeof(UIntPtr));
                case "double *": return need(t.IsByRef && elem == typeof(double));
                case "od_job_state *": case "od_status *": case "int32_t *": return need(t.IsByRef && elem == typeof(int));
            }
            if (Regex.IsMatch(c, @"^od_[a-z_]+_fn$"))
                return need(typeof(Delegate).IsAssignableFrom(t));
            var handle = Regex.Match(c, @"^od_([a-z]+) \*( \*)?$");
            if (handle.Success)
            {
                bool outParam = handle.Groups[2].Success;
                if (outParam != t.IsByRef) return "C " + c + " vs C# " + t.Name + " (by-ref mismatch)";
                if (elem == typeof(IntPtr)) return null;
                string expected = handle.Groups[1].Value; // client, job, item, cancel, session
                if (!typeof(SafeHandle).IsAssignableFrom(elem)) return "C " + c + " vs C# " + t.Name;
                if (!elem.Name.Equals(expected + "Handle", StringComparison.OrdinalIgnoreCase))
                    return "C " + c + " vs C# " + elem.Name;
                return null;
            }
            return "unknown C type '" + c + "' (teach HeaderContractTests.Compatible about it)";
        }
    }
}
