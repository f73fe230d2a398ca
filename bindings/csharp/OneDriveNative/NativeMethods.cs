// P/Invoke declarations for include/onedrive.h, one per C function (the
// entry point is the method's name). The test suite (AbiContract) checks
// every declaration, and the constants below, against
// include/onedrive.abi.json: name, number of arguments, the kind of each.
//
// Marshalling rules used throughout:
// - strings in: byte[] holding UTF-8 with a trailing NUL (Utf8.ToNative),
//   null for a C NULL; never the runtime's string marshalling (mono's
//   default is not UTF-8);
// - strings out: IntPtr, read by hand (Utf8.FromNative) while the owning
//   handle is held;
// - handles: SafeHandle subclasses, so a handle cannot be freed while a call
//   uses it; `out XHandle` for the C `od_x **out_x`;
// - C `bool`: one byte (UnmanagedType.I1); `size_t`: UIntPtr;
// - callbacks: delegates kept in static fields (never collected), userdata
//   a GCHandle to the per-call state.
using System;
using System.Runtime.InteropServices;

namespace OneDriveNative
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int OdTokenFn(IntPtr userdata, IntPtr client);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int OdProgressFn(IntPtr userdata, ulong done, ulong total);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate long OdReadFn(IntPtr userdata, IntPtr buf, UIntPtr len);

    // message: a NUL-terminated UTF-8 line borrowed for the call (read by hand).
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void OdLogFn(IntPtr userdata, int level, IntPtr message);

    /// <summary>
    /// Marks a static method that native code calls back (required by
    /// Xamarin.iOS / full AOT, which recognise the attribute by its name).
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type delegateType) { DelegateType = delegateType; }
        public Type DelegateType { get; private set; }
    }

    internal static class NativeMethods
    {
#if __IOS__ || ONEDRIVE_NATIVE_STATIC
        // iOS (and any app that links libonedrive_native.a into its
        // executable): the symbols are in the process itself.
        internal const string Lib = "__Internal";
#else
        // libonedrive_native.so / .dylib / onedrive_native.dll
        internal const string Lib = "onedrive_native";
#endif
        private const CallingConvention CC = CallingConvention.Cdecl;

        // Flags of include/onedrive.h.
        internal const uint OD_CLIENT_ALLOW_INSECURE_HTTP = 1;
        internal const uint OD_COPY_LEGACY = 1;
        internal const uint OD_FOLDER_PARENTS = 1;

        // Log levels of include/onedrive.h (OneDriveLogLevel has the same numbers).
        internal const int OD_LOG_ERROR = 1;
        internal const int OD_LOG_WARN = 2;
        internal const int OD_LOG_INFO = 3;
        internal const int OD_LOG_DEBUG = 4;

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_version();

        // ---- client ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_new(byte[] base_url, byte[] token, uint flags, out ClientHandle out_client);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_client_free(IntPtr client);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_token(ClientHandle client, byte[] token);

        // The same function, for the token callback, which gets a raw pointer.
        [DllImport(Lib, CallingConvention = CC, EntryPoint = "od_client_set_token")]
        internal static extern int od_client_set_token_raw(IntPtr client, byte[] token);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_token_with_expiry(ClientHandle client, byte[] token, long expires_on);

        // The same function, for the token callback, which gets a raw pointer.
        [DllImport(Lib, CallingConvention = CC, EntryPoint = "od_client_set_token_with_expiry")]
        internal static extern int od_client_set_token_with_expiry_raw(IntPtr client, byte[] token, long expires_on);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_token_callback(ClientHandle client, OdTokenFn callback, IntPtr userdata);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_timeouts(ClientHandle client, uint connect_ms, uint request_ms);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_retry(ClientHandle client, uint max_attempts, ulong max_wait_ms);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_user_agent(ClientHandle client, byte[] user_agent);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_upload_options(ClientHandle client, ulong simple_limit, ulong chunk_size, uint hash_flags);

        // ---- network: trusted CAs, proxy, upload rate cap, log ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_add_ca_pem(ClientHandle client, byte[] pem, UIntPtr len);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_add_ca_file(ClientHandle client, byte[] path);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_proxy(ClientHandle client, byte[] proxy);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_upload_rate(ClientHandle client, ulong bytes_per_second);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_client_set_log_callback(ClientHandle client, int max_level, OdLogFn callback, IntPtr userdata);

        // ---- cancel ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_cancel_new(out CancelHandle out_cancel);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_cancel_trigger(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_cancel_reset(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = CC)]
        [return: MarshalAs(UnmanagedType.I1)]
        internal static extern bool od_cancel_is_triggered(CancelHandle cancel);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_cancel_free(IntPtr cancel);

        // ---- item ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_id(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_name(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_etag(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_ctag(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_drive_id(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_parent_id(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_quick_xor_hash(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_item_json(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern long od_item_size(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        [return: MarshalAs(UnmanagedType.I1)]
        internal static extern bool od_item_is_folder(ItemHandle item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_item_free(IntPtr item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_item_get(ClientHandle client, byte[] drive, byte[] item, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_folder_create(ClientHandle client, byte[] drive, byte[] parent, byte[] name,
            int conflict, uint flags, CancelHandle cancel, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_item_delete(ClientHandle client, byte[] drive, byte[] item, byte[] if_match,
            CancelHandle cancel);

        // ---- job ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_job_from_monitor_url(byte[] monitor_url, byte[] drive, out JobHandle out_job);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_job_monitor_url(JobHandle job);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_job_last_state(JobHandle job);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_poll_job(ClientHandle client, JobHandle job, out int out_state, out double out_percent);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_wait_job(ClientHandle client, JobHandle job, ulong timeout_ms,
            OdProgressFn progress, IntPtr userdata, CancelHandle cancel, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_job_item(JobHandle job, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_job_free(IntPtr job);

        // ---- operations ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_upload(ClientHandle client, byte[] drive, byte[] item, byte[] name,
            IntPtr data, UIntPtr len, int conflict, OdProgressFn progress, IntPtr userdata,
            CancelHandle cancel, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_url_upload(ClientHandle client, byte[] drive, byte[] parent, byte[] name,
            byte[] source_url, out JobHandle out_job);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_copy(ClientHandle client, byte[] drive, byte[] source, byte[] dest_parent,
            byte[] dest_drive_id, byte[] new_name, int conflict, uint flags, out JobHandle out_job);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_upload_file(ClientHandle client, byte[] drive, byte[] item, byte[] name,
            byte[] path, int conflict, OdProgressFn progress, IntPtr userdata, CancelHandle cancel,
            out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_upload_stream(ClientHandle client, byte[] drive, byte[] item, byte[] name,
            ulong size, OdReadFn read, IntPtr read_userdata, int conflict, OdProgressFn progress,
            IntPtr userdata, CancelHandle cancel, out ItemHandle out_item);

        // ---- upload sessions ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_create(ClientHandle client, byte[] drive, byte[] item, byte[] name,
            ulong size, int conflict, out SessionHandle out_session);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_to_json(SessionHandle session, out IntPtr out_json);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_from_json(byte[] json, out SessionHandle out_session);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_upload_file(ClientHandle client, SessionHandle session, byte[] path,
            OdProgressFn progress, IntPtr userdata, CancelHandle cancel, out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_upload_stream(ClientHandle client, SessionHandle session,
            OdReadFn read, IntPtr read_userdata, OdProgressFn progress, IntPtr userdata, CancelHandle cancel,
            out ItemHandle out_item);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_session_cancel(ClientHandle client, SessionHandle session);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern ulong od_session_size(SessionHandle session);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_session_free(IntPtr session);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_string_free(IntPtr s);

        // ---- status and last error ----
        [DllImport(Lib, CallingConvention = CC)]
        internal static extern IntPtr od_status_str(int status);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_last_error_status();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_last_error_http_status();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern long od_last_error_retry_after_ms();

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern int od_last_error_string(int field, byte[] buf, UIntPtr buf_len, out UIntPtr out_needed);

        [DllImport(Lib, CallingConvention = CC)]
        internal static extern void od_last_error_clear();
    }
}
