// SPDX-License-Identifier: ISC
#pragma once
// Envelope addresses and routing.
//
// Every envelope address passes check_address() once, at submission and
// again when the runner picks a message up: libcurl 7.88 copies addresses
// verbatim into MAIL FROM / RCPT TO, so CR, LF, NUL and every other control
// byte are refused, as are spaces outside quotes and a leading '-' (an
// address must never be taken for an option by a program it reaches).

#include "common/config.h"
#include "common/result.h"

#include <string>
#include <string_view>

namespace postern {

// Checks a bare envelope address ("user", "user@domain", "\"a b\"@d").
// Errors: EX_DATAERR for control bytes (the text names the byte and the
// address, printed safely), EX_NOUSER for a malformed address (empty,
// unbalanced quotes, local part over 64 octets, leading '-', space).
Status check_address(std::string_view addr, std::string_view what);

// The address with control bytes shown as \xNN, for error texts and logs.
std::string printable(std::string_view s);

// "root" -> "root@domain"; addresses with a domain are returned unchanged.
std::string qualify(const std::string& addr, const std::string& domain);

// Local part and domain; domain is empty for a bare name. A quoted local
// part keeps its quotes.
std::string local_part(const std::string& addr);
std::string domain_part(const std::string& addr);

// True for localhost, the host name, its FQDN and [local] domains
// (case-insensitive). [sender] domain is not local unless listed.
bool is_local_domain(const std::string& domain, const Config& cfg);

enum class Route { Local, Relay };
// Bare names and local domains are Local; everything else is Relay.
Route route_of(const std::string& addr, const Config& cfg);

// ASCII lower case.
std::string to_lower(std::string s);

} // namespace postern
