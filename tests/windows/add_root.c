/*
 * Test harness only: adds the certificates of a PEM file to the Windows
 * machine's trusted root store (LocalMachine\Root), or removes them, in the
 * Wine prefix make test-windows uses: the library's trust in the Windows
 * store, with no CA given to the client (tests/windows/system_store.sh).
 *   add_root.exe add|remove FILE.pem
 */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "add_root: %s failed: error 0x%08lx\n", what, (unsigned long)GetLastError());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0)) {
        fprintf(stderr, "usage: add_root add|remove FILE.pem\n");
        return 2;
    }
    int add = strcmp(argv[1], "add") == 0;
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    static char pem[1 << 16];
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    pem[n] = 0;
    HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"Root");
    if (store == NULL) return fail("CertOpenStore(LocalMachine\\Root)");
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end_marker[] = "-----END CERTIFICATE-----";
    int count = 0;
    for (char *p = strstr(pem, begin); p != NULL; p = strstr(p + 1, begin)) {
        char *end = strstr(p, end_marker);
        if (end == NULL) break;
        end += strlen(end_marker);
        static BYTE der[1 << 15];
        DWORD der_len = sizeof der;
        if (!CryptStringToBinaryA(p, (DWORD)(end - p), CRYPT_STRING_BASE64HEADER, der, &der_len, NULL, NULL))
            return fail("CryptStringToBinaryA");
        if (add) {
            if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, der_len,
                                                  CERT_STORE_ADD_REPLACE_EXISTING, NULL))
                return fail("CertAddEncodedCertificateToStore");
        } else {
            /* The registry key of the certificate (its SHA-1 thumbprint), deleted
               directly: Wine 8.0's CertDeleteCertificateFromStore on the system
               store does not remove it from the registry. */
            BYTE sha1[20];
            DWORD sha1_len = sizeof sha1;
            if (!CryptHashCertificate(0, CALG_SHA1, 0, der, der_len, sha1, &sha1_len)) return fail("CryptHashCertificate");
            char key[128] = "Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\";
            for (DWORD i = 0; i < sha1_len; i++) snprintf(key + strlen(key), 3, "%02X", sha1[i]);
            LONG rc = RegDeleteKeyA(HKEY_LOCAL_MACHINE, key);
            if (rc != ERROR_SUCCESS) {
                SetLastError((DWORD)rc);
                return fail(key);
            }
        }
        count++;
    }
    CertCloseStore(store, 0);
    if (count == 0) {
        fprintf(stderr, "add_root: no certificate in %s\n", argv[2]);
        return 1;
    }
    return 0;
}
