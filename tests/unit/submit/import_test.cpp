// SPDX-License-Identifier: ISC
// postern --import: other MTAs' configurations to postern.conf. The sample
// files of tests/data/import are checked end to end by the integration
// test (tests/integration/ops/test_import.py); these cases cover the rules.
#include "submit/import.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace postern::submit;

namespace {

std::map<std::string, std::string> g_files;

std::string fake_sibling(const std::string& path)
{
    auto it = g_files.find(path);
    return it == g_files.end() ? "" : it->second;
}

ImportedConfig run(const char* format, const std::string& text,
                   std::map<std::string, std::string> files = {})
{
    g_files = std::move(files);
    return convert(format, "/etc/x/input", text, fake_sibling);
}

} // namespace

TEST_CASE("guess_format: by name, then by content")
{
    CHECK(guess_format("/etc/ssmtp/ssmtp.conf", "") == "ssmtp");
    CHECK(guess_format("/home/u/.msmtprc", "") == "msmtp");
    CHECK(guess_format("/etc/dma/dma.conf", "") == "dma");
    CHECK(guess_format("/etc/nullmailer/remotes", "") == "nullmailer");
    CHECK(guess_format("/tmp/a", "# c\nmailhub=x:25\n") == "ssmtp");
    CHECK(guess_format("/tmp/a", "account gmail\nhost x\n") == "msmtp");
    CHECK(guess_format("/tmp/a", "SMARTHOST x\n") == "dma");
    CHECK(guess_format("/tmp/a", "relay.example smtp --port=25\n") == "nullmailer");
    CHECK(guess_format("/tmp/a", "[relay]\nhost = x\n") == "");
}

TEST_CASE("passwords are never printed")
{
    auto c =
        run("ssmtp", "mailhub=h.example:587\nUseSTARTTLS=YES\nAuthUser=u\nAuthPass=TOPSECRET\n");
    std::string out = c.render("in", "ssmtp");
    CHECK(out.find("TOPSECRET") == std::string::npos);
    CHECK(c.get("relay.password_file") == "/etc/postern.secret");
    CHECK(out.find("mode 0600") != std::string::npos);
}

TEST_CASE("ssmtp: defaults of the old tool are written out")
{
    SUBCASE("no TLS, port 25")
    {
        auto c = run("ssmtp", "mailhub=h.example\n");
        CHECK(c.get("relay.port") == "25");
        CHECK(c.get("relay.tls") == "none");
    }
    SUBCASE("UseTLS alone is implicit TLS on 465")
    {
        auto c = run("ssmtp", "mailhub=h.example\nUseTLS=YES\n");
        CHECK(c.get("relay.tls") == "implicit");
        CHECK(c.get("relay.port") == "465");
    }
    SUBCASE("a password without TLS to a remote host gets STARTTLS (postern refuses clear text)")
    {
        auto c = run("ssmtp", "mailhub=h.example\nAuthUser=u\nAuthPass=p\n");
        CHECK(c.get("relay.tls") == "starttls");
    }
    SUBCASE("revaliases: root's address is the sender, others are listed")
    {
        auto c = run("ssmtp", "mailhub=h.example\n",
                     {{"/etc/x/revaliases", "bob:bob@x.example\nroot:r@x.example:h.example\n"}});
        CHECK(c.get("sender.from") == "r@x.example");
        REQUIRE(c.dropped().size() == 1);
        CHECK(c.dropped()[0].find("bob") != std::string::npos);
    }
    SUBCASE("unknown keys are listed, not dropped silently")
    {
        auto c = run("ssmtp", "mailhub=h.example\nFancyOption=1\n");
        REQUIRE(c.dropped().size() == 1);
        CHECK(c.dropped()[0] == "fancyoption");
    }
}

TEST_CASE("msmtp: default account, defaults and inheritance")
{
    const std::string rc = "defaults\ntls on\nport 587\n"
                           "account a\nhost a.example\n"
                           "account b\nhost b.example\ntls_starttls off\nport 465\n"
                           "account c : b\nuser cu\n";
    SUBCASE("the first account when there is no default")
    {
        auto c = run("msmtp", rc);
        CHECK(c.get("relay.host") == "a.example");
        CHECK(c.get("relay.port") == "587");
        CHECK(c.get("relay.tls") == "starttls");
    }
    SUBCASE("account default : c inherits c and b")
    {
        auto c = run("msmtp", rc + "account default : c\n");
        CHECK(c.get("relay.host") == "b.example");
        CHECK(c.get("relay.tls") == "implicit");
        CHECK(c.get("relay.port") == "465");
        CHECK(c.get("relay.user") == "cu");
    }
    SUBCASE("passwordeval with shell syntax becomes a comment, never a command")
    {
        auto c = run("msmtp", "account x\nhost h.example\ntls on\nuser u\n"
                              "passwordeval \"gpg -d ~/.pw.gpg | head -1\"\n");
        CHECK_FALSE(c.has("relay.password_command"));
        CHECK(c.get("relay.password_file") == "/etc/postern.secret");
        CHECK(c.render("in", "msmtp").find("gpg") != std::string::npos);
    }
    SUBCASE("passwordeval without shell syntax becomes password_command with a full path")
    {
        auto c = run("msmtp", "account x\nhost h.example\ntls on\nuser u\npasswordeval cat /pw\n");
        std::string cmd = c.get("relay.password_command");
        CHECK(cmd.rfind("/", 0) == 0);
        CHECK(cmd.size() > 8);
        CHECK(cmd.substr(cmd.size() - 8) == "/cat /pw");
    }
    SUBCASE("auth methods postern lacks are listed")
    {
        auto c = run("msmtp", "account x\nhost h.example\nauth scram-sha-1\n");
        CHECK_FALSE(c.has("relay.auth"));
        CHECK(c.dropped().size() == 1);
    }
}

TEST_CASE("dma: auth.conf entry for the smarthost")
{
    auto c = run("dma", "SMARTHOST m.example\nSECURETRANSFER\n",
                 {{"/etc/x/auth.conf", "u@m.example|m.example:pw\nz|other.example:pw2\n"}});
    CHECK(c.get("relay.tls") == "implicit");
    CHECK(c.get("relay.port") == "25");
    CHECK(c.get("relay.user") == "u@m.example");
    CHECK(c.has("relay.password_file"));
    CHECK(c.dropped().size() == 1);
}

TEST_CASE("nullmailer: remotes with the same settings become one host list")
{
    auto c = run("nullmailer",
                 "a.example smtp --port=2525 --ssl\nb.example smtp --port=2525 --ssl\n"
                 "c.example smtp --port=25\n",
                 {{"/etc/x/defaulthost", "box\n"},
                  {"/etc/x/defaultdomain", "example.net\n"},
                  {"/etc/x/allmailfrom", "box@example.net\n"}});
    CHECK(c.get("relay.host") == "a.example, b.example");
    CHECK(c.get("relay.port") == "2525");
    CHECK(c.get("relay.tls") == "implicit");
    CHECK(c.get("sender.domain") == "box.example.net");
    CHECK(c.get("sender.from") == "box@example.net");
    CHECK(c.dropped().size() == 1);
}

TEST_CASE("values that cannot be written in postern.conf are listed instead")
{
    auto c = run("msmtp", "account x\nhost h.example ; evil\n");
    CHECK_FALSE(c.has("relay.host"));
    CHECK(c.dropped().size() == 1);
}
