using System;
using System.Runtime.InteropServices;
using System.Text;

namespace OneDriveNative
{
    /// <summary>UTF-8 marshalling by hand, both ways (the runtime's default
    /// string marshalling is not UTF-8 everywhere, e.g. on mono).</summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>The UTF-8 bytes of <paramref name="s"/> and a trailing NUL,
        /// or null (a C NULL) for null.</summary>
        internal static byte[] ToNative(string s, string paramName)
        {
            if (s == null) return null;
            if (s.IndexOf('\0') >= 0)
                throw new ArgumentException("the string contains a NUL character", paramName);
            byte[] bytes;
            try
            {
                int n = Strict.GetByteCount(s);
                bytes = new byte[n + 1];
                Strict.GetBytes(s, 0, s.Length, bytes, 0);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("the string is not valid UTF-16 (a lone surrogate)", paramName, e);
            }
            return bytes;
        }

        /// <summary>Reads a NUL-terminated UTF-8 string (null for NULL). The
        /// caller keeps the memory alive during the call.</summary>
        internal static string FromNative(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            return FromNative(p, len);
        }

        internal static string FromNative(IntPtr p, int len)
        {
            if (len == 0) return string.Empty;
            var buf = new byte[len];
            Marshal.Copy(p, buf, 0, len);
            return Encoding.UTF8.GetString(buf);
        }

        /// <summary>Decodes a buffer holding NUL-terminated UTF-8.</summary>
        internal static string FromBuffer(byte[] buf)
        {
            int len = Array.IndexOf(buf, (byte)0);
            if (len < 0) len = buf.Length;
            return Encoding.UTF8.GetString(buf, 0, len);
        }

        /// <summary>Reads a string borrowed from a handle, holding the handle so
        /// that no other thread can free it between the call and the copy.</summary>
        internal static string Borrowed<T>(T handle, Func<T, IntPtr> getter) where T : SafeHandle
        {
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                return FromNative(getter(handle));
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
    }
}
