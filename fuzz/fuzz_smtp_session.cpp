// SPDX-License-Identifier: ISC
// sendmail -bs: a whole SMTP dialogue from the fuzzer's bytes, into a real
// temporary spool (emptied after each input). Whatever the input, the
// session must end without crashing, and every drop file it commits must
// parse and be exactly as long as its header says.
#include "common/config.h"
#include "common/envelope.h"
#include "common/io.h"
#include "common/privilege.h"
#include "common/spool.h"
#include "submit/message.h"
#include "submit/smtp_session.h"

#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

using namespace postern;
using namespace postern::submit;

namespace {

std::string g_spool;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

void remove_spool()
{
    if (!g_spool.empty())
        ::nftw(g_spool.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string make_spool()
{
    char tmpl[] = "/tmp/postern-fuzz-bs-XXXXXX";
    if (!::mkdtemp(tmpl))
        std::abort();
    g_spool = tmpl;
    std::atexit(remove_spool);
    return tmpl;
}

void check_and_empty(const std::string& incoming)
{
    DIR* d = ::opendir(incoming.c_str());
    if (!d)
        return;
    while (struct dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..")
            continue;
        std::string path = incoming + "/" + n;
        if (n[0] != '.') {
            auto text = read_file(AT_FDCWD, path, 64u << 20);
            if (!text)
                std::abort();
            auto env = parse_drop_header(*text, path);
            if (!env || static_cast<long long>(text->size()) != env->offset + env->size)
                std::abort(); // a committed drop file must be whole
        }
        ::unlink(path.c_str());
    }
    ::closedir(d);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static std::string spool = make_spool();
    static Config cfg = [] {
        Config c;
        c.queue.dir = spool;
        c.queue.max_size = 1 << 20;
        c.sender.domain = "example.org";
        return c;
    }();
    static bool init = (drop_group_init(), true);
    (void)init;
    MessageJob base;
    base.cfg = &cfg;
    base.caller = current_caller();
    base.from_addr = base.caller.user;

    int in = ::memfd_create("bs-input", MFD_CLOEXEC);
    int out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (in < 0 || out < 0)
        std::abort();
    if (size > 0 && ::write(in, data, size) != static_cast<ssize_t>(size))
        std::abort();
    ::lseek(in, 0, SEEK_SET);
    (void)run_smtp_session(in, out, base);
    ::close(in);
    ::close(out);
    check_and_empty(spool + "/incoming");
    return 0;
}
