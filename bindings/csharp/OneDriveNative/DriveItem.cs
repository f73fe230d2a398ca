using System;
using System.Globalization;

namespace OneDriveNative
{
    /// <summary>A driveItem (file or folder) as the service returned it. A
    /// managed copy: the native <c>od_item</c> is freed as soon as its fields
    /// are read, so a DriveItem needs no disposal.</summary>
    public sealed class DriveItem
    {
        private DriveItem() { }

        public string Id { get; private set; }
        public string Name { get; private set; }
        public string ETag { get; private set; }
        /// <summary>Changes with the content only.</summary>
        public string CTag { get; private set; }
        /// <summary><c>parentReference.driveId</c>.</summary>
        public string DriveId { get; private set; }
        /// <summary>The parent folder's id; null for the root.</summary>
        public string ParentId { get; private set; }
        /// <summary>The file's quickXorHash (base64); null for folders.</summary>
        public string QuickXorHash { get; private set; }
        /// <summary>Bytes, or null when the service gave none.</summary>
        public long? Size { get; private set; }
        public bool IsFolder { get; private set; }
        /// <summary>When it last changed (<c>lastModifiedDateTime</c>), or null when the service gave none.</summary>
        public DateTimeOffset? LastModified { get; private set; }
        /// <summary>How many children a folder holds (<c>folder.childCount</c>); null for a file or when absent.</summary>
        public long? ChildCount { get; private set; }
        /// <summary>The whole driveItem as JSON text.</summary>
        public string Json { get; private set; }

        /// <summary>Copies an item out of its handle and frees the handle.</summary>
        internal static DriveItem Take(ItemHandle h)
        {
            using (h)
            {
                if (h == null || h.IsInvalid) return null;
                long size = NativeMethods.od_item_size(h);
                long children = NativeMethods.od_item_child_count(h);
                return new DriveItem
                {
                    Id = Utf8.Borrowed(h, NativeMethods.od_item_id),
                    Name = Utf8.Borrowed(h, NativeMethods.od_item_name),
                    ETag = Utf8.Borrowed(h, NativeMethods.od_item_etag),
                    CTag = Utf8.Borrowed(h, NativeMethods.od_item_ctag),
                    DriveId = Utf8.Borrowed(h, NativeMethods.od_item_drive_id),
                    ParentId = Utf8.Borrowed(h, NativeMethods.od_item_parent_id),
                    QuickXorHash = Utf8.Borrowed(h, NativeMethods.od_item_quick_xor_hash),
                    Json = Utf8.Borrowed(h, NativeMethods.od_item_json),
                    Size = size >= 0 ? size : (long?)null,
                    IsFolder = NativeMethods.od_item_is_folder(h),
                    LastModified = Timestamp(Utf8.Borrowed(h, NativeMethods.od_item_last_modified)),
                    ChildCount = children >= 0 ? children : (long?)null,
                };
            }
        }

        // ISO 8601 as the service writes it ("2026-01-02T03:04:05Z", fractions allowed).
        private static DateTimeOffset? Timestamp(string s)
        {
            DateTimeOffset t;
            if (s != null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out t))
                return t;
            return null;
        }

        public override string ToString() { return (IsFolder ? "folder " : "file ") + Name + " (" + Id + ")"; }
    }
}
