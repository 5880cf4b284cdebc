/* SPDX-License-Identifier: ISC
 * The CPU floor of a libcurl SMTP client flushing a queue, for bench.py:
 * COUNT copies of one message over THREADS connections at once, each a
 * thread with one easy handle reused for every message (curl_easy_perform,
 * as libcurl's smtp-mail.c example), no spool, no log, nothing of
 * postern. Built by the benchmark (cc -O2 ... -lcurl -lpthread), not by
 * postern's build.
 *
 *     curl-flush URL FROM RCPT FILE COUNT THREADS
 *
 * Prints the CPU time (user + system, all threads) and the wall time per
 * message in microseconds, "cpu_us wall_us"; exit status 0 when the relay
 * accepted every message. */
#include "floor_clock.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url, *from, *rcpt;
static char* data;
static size_t size;
static int per_thread, failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct src {
    size_t pos;
};

static size_t read_cb(char* buf, size_t sz, size_t n, void* ud)
{
    struct src* s = ud;
    size_t left = size - s->pos, want = sz * n < left ? sz * n : left;
    memcpy(buf, data + s->pos, want);
    s->pos += want;
    return want;
}

static void* worker(void* arg)
{
    (void)arg;
    CURL* e = curl_easy_init();
    struct curl_slist* to = curl_slist_append(NULL, rcpt);
    struct src s;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, &s);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    for (int i = 0; i < per_thread; ++i) {
        s.pos = 0;
        if (curl_easy_perform(e) != CURLE_OK) {
            pthread_mutex_lock(&mu);
            ++failures;
            pthread_mutex_unlock(&mu);
        }
    }
    curl_slist_free_all(to);
    curl_easy_cleanup(e);
    return NULL;
}

int main(int argc, char** argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: curl-flush URL FROM RCPT FILE COUNT THREADS\n");
        return 64;
    }
    url = argv[1];
    from = argv[2];
    rcpt = argv[3];
    int count = atoi(argv[5]), threads = atoi(argv[6]);
    FILE* f = fopen(argv[4], "rb");
    if (!f || threads < 1 || threads > 64 || count < threads) {
        fprintf(stderr, "curl-flush: bad arguments\n");
        return 64;
    }
    data = malloc(1 << 20);
    size = fread(data, 1, 1 << 20, f);
    fclose(f);
    per_thread = count / threads;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t t[64];
    double c0 = cpu_s(), w0 = wall_s();
    for (int i = 0; i < threads; ++i)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < threads; ++i)
        pthread_join(t[i], NULL);
    int sent = per_thread * threads;
    printf("%.2f %.2f\n", (cpu_s() - c0) / sent * 1e6, (wall_s() - w0) / sent * 1e6);
    curl_global_cleanup();
    return failures ? 1 : 0;
}
