// SPDX-License-Identifier: ISC
#pragma once
// The -v SMTP transcript with AUTH data masked. libcurl 7.88 logs every
// command it sends (Curl_pp_vsendf -> CURLINFO_HEADER_OUT) without
// redaction, "AUTH PLAIN <base64 of user and password>" included, and the
// 334 challenges and answers of a SASL exchange verbatim (XOAUTH2's error
// challenge even carries JSON about the token). Redactor keeps the state
// needed to mask them: after a 334 the next client line is secret.
// Failure policy: pure, no errors.

#include <string>
#include <string_view>

namespace postern::send {

class Redactor {
  public:
    // A line the client sent; returns what may be shown.
    std::string client(std::string_view line);
    // A line the server sent; returns what may be shown.
    std::string server(std::string_view line);

  private:
    bool in_sasl_ = false; // between "AUTH ..." and the final 2xx/4xx/5xx
};

// Strips the trailing CRLF of a protocol line.
std::string_view chomp(std::string_view line);

} // namespace postern::send
