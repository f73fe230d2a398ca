using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace OneDriveNative
{
    /// <summary>
    /// A small strict JSON reader (RFC 8259) for the driveItem JSON the
    /// library hands out as text (a completed queue transfer's item):
    /// objects become <c>Dictionary&lt;string, object&gt;</c>, arrays
    /// <c>List&lt;object&gt;</c>, numbers <c>long</c> when integral else
    /// <c>double</c>, and strings, booleans and null themselves. netstandard2.0
    /// has no JSON reader without a package, and this assembly takes none.
    /// </summary>
    internal sealed class JsonReader
    {
        private const int MaxDepth = 64;
        private readonly string s;
        private int i;

        private JsonReader(string s) { this.s = s; }

        /// <summary>Parses a whole document; FormatException when it is not JSON.</summary>
        internal static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            var p = new JsonReader(text);
            object v = p.Value(0);
            p.Space();
            if (p.i != text.Length) throw p.Error("text after the value");
            return v;
        }

        /// <summary>The value at a path of object keys, or null when any is missing.</summary>
        internal static object At(object root, params string[] keys)
        {
            object v = root;
            foreach (string k in keys)
            {
                var o = v as Dictionary<string, object>;
                if (o == null || !o.TryGetValue(k, out v)) return null;
            }
            return v;
        }

        private FormatException Error(string what)
        {
            return new FormatException("JSON: " + what + " at offset " + i);
        }

        private void Space()
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        }

        private object Value(int depth)
        {
            if (depth > MaxDepth) throw Error("nesting too deep");
            Space();
            if (i >= s.Length) throw Error("a value expected");
            char c = s[i];
            switch (c)
            {
                case '{': return Object(depth);
                case '[': return Array(depth);
                case '"': return String();
                case 't': return Word("true", true);
                case 'f': return Word("false", false);
                case 'n': return Word("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return Number();
                    throw Error("unexpected '" + c + "'");
            }
        }

        private object Word(string word, object value)
        {
            if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0) throw Error("unexpected word");
            i += word.Length;
            return value;
        }

        private Dictionary<string, object> Object(int depth)
        {
            var o = new Dictionary<string, object>(StringComparer.Ordinal);
            i++; // {
            Space();
            if (i < s.Length && s[i] == '}') { i++; return o; }
            while (true)
            {
                Space();
                if (i >= s.Length || s[i] != '"') throw Error("a key expected");
                string key = String();
                Space();
                if (i >= s.Length || s[i] != ':') throw Error("':' expected");
                i++;
                o[key] = Value(depth + 1);
                Space();
                if (i < s.Length && s[i] == ',') { i++; continue; }
                if (i < s.Length && s[i] == '}') { i++; return o; }
                throw Error("',' or '}' expected");
            }
        }

        private List<object> Array(int depth)
        {
            var a = new List<object>();
            i++; // [
            Space();
            if (i < s.Length && s[i] == ']') { i++; return a; }
            while (true)
            {
                a.Add(Value(depth + 1));
                Space();
                if (i < s.Length && s[i] == ',') { i++; continue; }
                if (i < s.Length && s[i] == ']') { i++; return a; }
                throw Error("',' or ']' expected");
            }
        }

        private string String()
        {
            i++; // "
            var b = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw Error("unterminated string");
                char c = s[i++];
                if (c == '"') return b.ToString();
                if (c < ' ') throw Error("a control character in a string");
                if (c != '\\') { b.Append(c); continue; }
                if (i >= s.Length) throw Error("unterminated escape");
                char e = s[i++];
                switch (e)
                {
                    case '"': b.Append('"'); break;
                    case '\\': b.Append('\\'); break;
                    case '/': b.Append('/'); break;
                    case 'b': b.Append('\b'); break;
                    case 'f': b.Append('\f'); break;
                    case 'n': b.Append('\n'); break;
                    case 'r': b.Append('\r'); break;
                    case 't': b.Append('\t'); break;
                    case 'u':
                        int code;
                        if (i + 4 > s.Length || !int.TryParse(s.Substring(i, 4), NumberStyles.AllowHexSpecifier,
                                CultureInfo.InvariantCulture, out code))
                            throw Error("a bad \\u escape");
                        b.Append((char)code); // surrogate pairs come as two escapes, appended in turn
                        i += 4;
                        break;
                    default: throw Error("a bad escape");
                }
            }
        }

        private object Number()
        {
            int start = i;
            if (s[i] == '-') i++;
            if (i >= s.Length || s[i] < '0' || s[i] > '9') throw Error("a digit expected");
            if (s[i] == '0') i++;
            else while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
            bool integral = true;
            if (i < s.Length && s[i] == '.')
            {
                integral = false;
                i++;
                if (i >= s.Length || s[i] < '0' || s[i] > '9') throw Error("a digit expected");
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
            }
            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                integral = false;
                i++;
                if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                if (i >= s.Length || s[i] < '0' || s[i] > '9') throw Error("a digit expected");
                while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
            }
            string text = s.Substring(start, i - start);
            long l;
            if (integral && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)) return l;
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }
}
