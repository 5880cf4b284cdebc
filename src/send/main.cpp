// SPDX-License-Identifier: ISC
// postern-send: the queue runner. See postern(8).
#include "common/process.h"
#include "send/send.h"

// libcurl links librtmp and libldap, which link GnuTLS, whose library
// constructor initialises it at load time (random pool, system priority
// file, PKCS#11 modules through p11-kit): about 1 MiB of private memory in
// a process that never uses GnuTLS (libcurl speaks TLS through OpenSSL).
// This is GnuTLS's documented opt-out (GNUTLS_SKIP_GLOBAL_INIT in
// <gnutls/gnutls.h>); meson exports the symbol so the constructor sees it.
extern "C" int _gnutls_global_init_skip();
extern "C" int _gnutls_global_init_skip() { return 1; }

int main(int argc, char** argv)
{
    // First: the environment is rebuilt from an allow-list before libcurl
    // (initialised in run()) can read SSLKEYLOGFILE or *_proxy.
    postern::sanitize_process("postern-send");
    return postern::run_main_code([&] { return postern::send::run(argc, argv); });
}
