// SPDX-License-Identifier: ISC
// Placeholder until the aliases parser lands (issue 4): no aliases, plain
// routing.
#include "common/aliases.h"

#include "common/address.h"

namespace postern {

Result<Aliases> Aliases::load(const std::string&) { return Aliases(); }

const AliasEntry* Aliases::find(const std::string& name) const
{
    auto it = map_.find(name);
    return it == map_.end() ? nullptr : &it->second;
}

Result<std::vector<Recipient>> expand_recipient(const std::string& rcpt, const Aliases&,
                                                const Config& cfg)
{
    Recipient r;
    if (route_of(rcpt, cfg) == Route::Local) {
        r.kind = RcptKind::Local;
        r.address = to_lower(local_part(rcpt));
    } else {
        r.kind = RcptKind::Relay;
        r.address = rcpt;
    }
    return std::vector<Recipient>{r};
}

} // namespace postern
