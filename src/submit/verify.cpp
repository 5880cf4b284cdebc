// SPDX-License-Identifier: ISC
#include "submit/verify.h"

#include "common/address.h"
#include "common/aliases.h"

#include <pwd.h>
#include <sysexits.h>

namespace postern::submit {
namespace {

// [local] mailbox with %u and %h filled in, for the report only.
std::string mailbox_of(const Config& cfg, const std::string& user)
{
    std::string home;
    if (struct passwd* pw = ::getpwnam(user.c_str()); pw && pw->pw_dir)
        home = pw->pw_dir;
    std::string out;
    const std::string& t = cfg.local.mailbox;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '%' && i + 1 < t.size() && (t[i + 1] == 'u' || t[i + 1] == 'h')) {
            out += t[i + 1] == 'u' ? user : (home.empty() ? "~" + user : home);
            ++i;
        } else {
            out += t[i];
        }
    }
    return out;
}

std::string relay_text(const Config& cfg)
{
    if (cfg.relay.hosts.empty())
        return "relay (no relay configured)";
    return "relay (" + cfg.relay.hosts.front() + ":" + std::to_string(cfg.relay.effective_port()) +
           ")";
}

} // namespace

Result<std::string> verify_report(const Config& cfg, const std::vector<std::string>& rcpts)
{
    if (rcpts.empty())
        return fail(EX_USAGE, "-bv: no addresses to verify");
    for (const auto& r : rcpts) {
        Status st = check_address(r, "recipient");
        if (!st)
            return st.error();
    }
    auto aliases = Aliases::load(cfg.local.aliases);
    if (!aliases)
        return aliases.error();
    std::string out;
    for (const auto& r : rcpts) {
        auto expanded = expand_recipient(r, *aliases, cfg);
        if (!expanded)
            return expanded.error();
        for (const auto& x : *expanded) {
            out += r;
            if (x.address != r)
                out += " -> " + x.address;
            out += ": ";
            switch (x.kind) {
            case RcptKind::Local:
                out += "local (mailbox " + mailbox_of(cfg, x.address) + ")";
                break;
            case RcptKind::Relay:
                out += relay_text(cfg);
                break;
            case RcptKind::File:
                out += "file";
                break;
            case RcptKind::Command:
                out += "command";
                break;
            }
            out += "\n";
        }
    }
    return out;
}

Result<std::string> aliases_report(const Config& cfg)
{
    auto aliases = Aliases::load(cfg.local.aliases);
    if (!aliases)
        return aliases.error();
    return cfg.local.aliases + ": " + std::to_string(aliases->size()) + " aliases\n";
}

} // namespace postern::submit
