/* SPDX-License-Identifier: ISC
 * The memory floor of a libcurl SMTP client, for bench.py: a program
 * that only links libcurl and sends one message, the way libcurl's own
 * smtp-tls.c example does (curl_global_init(CURL_GLOBAL_DEFAULT), one
 * easy handle, a read callback over a FILE with stdio's buffer), with
 * nothing of postern in it. Built by the benchmark (cc -O2 ... -lcurl),
 * not by postern's build.
 *
 *     curl-floor URL FROM RCPT FILE [CAFILE]
 *
 * URL smtp://host:port/ehlo-name (plain, or STARTTLS required when CAFILE
 * is given) or smtps://...; CAFILE: the CA bundle to verify the relay.
 * Exit status 0 when the relay accepted the message. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static size_t read_cb(char* buf, size_t size, size_t n, void* ud)
{
    return fread(buf, 1, size * n, (FILE*)ud);
}

int main(int argc, char** argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: curl-floor URL FROM RCPT FILE [CAFILE]\n");
        return 64;
    }
    FILE* f = fopen(argv[4], "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        perror(argv[4]);
        return 66;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 70;
    CURL* e = curl_easy_init();
    struct curl_slist* rcpt = curl_slist_append(NULL, argv[3]);
    if (!e || !rcpt)
        return 70;
    curl_easy_setopt(e, CURLOPT_URL, argv[1]);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, argv[2]);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, f);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    if (argc == 6) {
        curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        curl_easy_setopt(e, CURLOPT_CAINFO, argv[5]);
    }
    CURLcode rc = curl_easy_perform(e);
    if (rc != CURLE_OK)
        fprintf(stderr, "curl-floor: %s\n", curl_easy_strerror(rc));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    fclose(f);
    return rc == CURLE_OK ? 0 : 75;
}
