// A small JSON reader for include/onedrive.abi.json (mono's profile has no
// JSON parser that NUnit 2.6 tests can count on). Objects become
// Dictionary<string, object>, arrays List<object>, numbers long.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace OneDriveNative.Tests
{
    public sealed class Json
    {
        private readonly string s;
        private int i;

        private Json(string text) { s = text; }

        public static object Parse(string text)
        {
            var p = new Json(text);
            object v = p.Value();
            p.Space();
            if (p.i != p.s.Length) throw p.Error("text after the value");
            return v;
        }

        private FormatException Error(string what)
        {
            return new FormatException("JSON: " + what + " at offset " + i);
        }

        private void Space()
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        }

        private void Expect(char c)
        {
            Space();
            if (i >= s.Length || s[i] != c) throw Error("expected '" + c + "'");
            i++;
        }

        private object Value()
        {
            Space();
            if (i >= s.Length) throw Error("unexpected end");
            char c = s[i];
            if (c == '{') return Object();
            if (c == '[') return Array();
            if (c == '"') return String();
            if (c == '-' || char.IsDigit(c)) return Number();
            foreach (var word in new[] { "true", "false", "null" })
            {
                if (string.CompareOrdinal(s, i, word, 0, word.Length) == 0)
                {
                    i += word.Length;
                    return word == "null" ? null : (object)(word == "true");
                }
            }
            throw Error("unexpected '" + c + "'");
        }

        private Dictionary<string, object> Object()
        {
            var d = new Dictionary<string, object>();
            Expect('{');
            Space();
            if (s[i] == '}') { i++; return d; }
            while (true)
            {
                Space();
                string key = String();
                Expect(':');
                d[key] = Value();
                Space();
                if (s[i] == ',') { i++; continue; }
                Expect('}');
                return d;
            }
        }

        private List<object> Array()
        {
            var a = new List<object>();
            Expect('[');
            Space();
            if (s[i] == ']') { i++; return a; }
            while (true)
            {
                a.Add(Value());
                Space();
                if (s[i] == ',') { i++; continue; }
                Expect(']');
                return a;
            }
        }

        private string String()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (i < s.Length && s[i] != '"')
            {
                char c = s[i++];
                if (c != '\\') { sb.Append(c); continue; }
                char e = s[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u': sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber)); i += 4; break;
                    default: sb.Append(e); break; // " \ /
                }
            }
            if (i >= s.Length) throw Error("unterminated string");
            i++;
            return sb.ToString();
        }

        private long Number()
        {
            int start = i;
            if (s[i] == '-') i++;
            while (i < s.Length && char.IsDigit(s[i])) i++;
            if (i < s.Length && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) throw Error("only integers are expected");
            return long.Parse(s.Substring(start, i - start), CultureInfo.InvariantCulture);
        }
    }
}
