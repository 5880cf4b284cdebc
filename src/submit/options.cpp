// SPDX-License-Identifier: ISC
#include "submit/options.h"

#include "common/address.h"
#include "common/config.h"

#include <sysexits.h>

#include <string_view>

namespace postern::submit {
namespace {

// Letters that take an argument in sendmail's option string. 'q' is
// handled apart: it takes only an attached argument.
bool takes_argument(char c)
{
    return std::string_view("ABCFLNORVXbefhopr").find(c) != std::string_view::npos;
}

bool no_argument(char c)
{
    return std::string_view("GIUcimntvx").find(c) != std::string_view::npos;
}

Error usage(const std::string& program, const std::string& why)
{
    return fail(EX_USAGE, why + "\n" + usage_text(program));
}

// -N never | success,failure,delay (RFC 3461 NOTIFY).
bool valid_notify(const std::string& v)
{
    if (v == "never")
        return true;
    if (v.empty())
        return false;
    size_t pos = 0;
    while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        std::string word =
            v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        if (word != "success" && word != "failure" && word != "delay")
            return false;
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return true;
}

// Applies one -o option (the text after "-o").
void apply_o(SubmitOptions& o, const std::string& v)
{
    if (v == "i")
        o.ignore_dots = true;
    else if (v == "dq")
        o.delivery = Delivery::Queue;
    else if (v == "di")
        o.delivery = Delivery::Interactive;
    else if (v == "db" || v == "d")
        o.delivery = Delivery::Background;
    else
        o.ignored_o.push_back(v); // -oem, -oep, -om, -oQ...: logged, ignored
}

Status apply_b(SubmitOptions& o, const std::string& v)
{
    if (v == "m")
        o.mode = Mode::Send;
    else if (v == "p")
        o.mode = Mode::Queue;
    else if (v == "s")
        o.mode = Mode::Smtp;
    else if (v == "i")
        o.mode = Mode::Aliases;
    else if (v == "v")
        o.mode = Mode::Verify;
    else
        return usage(o.program, "unsupported mode -b" + printable(v));
    return {};
}

// One option letter with its argument (empty for flags).
Status apply(SubmitOptions& o, char c, const std::string& arg)
{
    switch (c) {
    case 'B': {
        std::string v = to_lower(arg);
        if (v != "7bit" && v != "8bitmime")
            return usage(o.program, "invalid -B value '" + printable(arg) + "' (7BIT or 8BITMIME)");
        o.body = v;
        return {};
    }
    case 'C':
        o.config_path = arg;
        return {};
    case 'F':
        o.have_fullname = true;
        o.fullname = arg;
        return {};
    case 'I':
        o.mode = Mode::Aliases;
        return {};
    case 'N': {
        std::string v = to_lower(arg);
        if (!valid_notify(v))
            return usage(o.program, "invalid -N value '" + printable(arg) +
                                        "' (never, or success,failure,delay)");
        o.notify = v;
        return {};
    }
    case 'R': {
        std::string v = to_lower(arg);
        if (v != "hdrs" && v != "full")
            return usage(o.program, "invalid -R value '" + printable(arg) + "' (hdrs or full)");
        o.ret = v;
        return {};
    }
    case 'V':
        o.envid = arg;
        return {};
    case 'b':
        return apply_b(o, arg);
    case 'f':
    case 'r':
        o.have_sender = true;
        o.sender = arg;
        return {};
    case 'i':
        o.ignore_dots = true;
        return {};
    case 'o':
        apply_o(o, arg);
        return {};
    case 't':
        o.extract_recipients = true;
        return {};
    case 'v':
        o.verbose = true;
        return {};
    default:
        // -A -L -O -X -e -h -p and -G -U -c -m -n -x: accepted for
        // compatibility, without effect (their argument is swallowed).
        return {};
    }
}

// Long options, known only to the name "postern".
Status apply_long(SubmitOptions& o, const std::vector<std::string>& argv, size_t& i)
{
    const std::string& a = argv[i];
    if (o.program != "postern")
        return usage(o.program, "unknown option " + printable(a));
    if (a == "--version") {
        o.mode = Mode::Version;
    } else if (a == "--check") {
        o.mode = Mode::Check;
    } else if (a == "--send") {
        if (i + 1 >= argv.size())
            return usage(o.program, "option --send requires an argument");
        o.check_send = argv[++i];
    } else if (a == "--status") {
        o.mode = Mode::Status;
    } else if (a == "--json") {
        o.status_json = true;
    } else if (a == "--prometheus") {
        o.prometheus = true;
    } else if (a == "--warn" || a == "--crit") {
        if (i + 1 >= argv.size())
            return usage(o.program, "option " + a + " requires an argument");
        long age = parse_duration(argv[++i]);
        if (age < 0)
            return usage(o.program, "invalid " + a + " value '" + printable(argv[i]) +
                                        "' (an age such as 3600, 30m, 2h or 1d)");
        (a == "--warn" ? o.warn_age : o.crit_age) = age;
    } else if (a == "--import") {
        if (i + 1 >= argv.size())
            return usage(o.program, "option --import requires an argument");
        o.mode = Mode::Import;
        o.import_file = argv[++i];
    } else if (a == "--format") {
        if (i + 1 >= argv.size())
            return usage(o.program, "option --format requires an argument");
        o.import_format = to_lower(argv[++i]);
        if (o.import_format != "ssmtp" && o.import_format != "msmtp" && o.import_format != "dma" &&
            o.import_format != "nullmailer")
            return usage(o.program, "invalid --format value '" + printable(argv[i]) +
                                        "' (ssmtp, msmtp, dma or nullmailer)");
    } else {
        return usage(o.program, "unknown option " + printable(a));
    }
    return {};
}

} // namespace

std::string usage_text(const std::string& program)
{
    return "usage: " + program +
           " [-t] [-i] [-f sender] [-F name] [-odb|-odi|-odq] [-B 7BIT|8BITMIME] [-N dsn]"
           " [-R hdrs|full] [-V envid] [-C config] [-v] [--] recipient...\n"
           "       " +
           program +
           " -bp | -bs | -bi | -bv address... | -q\n"
           "       postern --check [--send address] | --status [--json | --prometheus] [--warn "
           "age] [--crit age]\n"
           "       postern --import file [--format ssmtp|msmtp|dma|nullmailer]";
}

Result<SubmitOptions> parse_args(const std::vector<std::string>& argv)
{
    SubmitOptions o;
    std::string name = argv.empty() ? "sendmail" : argv[0];
    if (auto slash = name.rfind('/'); slash != std::string::npos)
        name = name.substr(slash + 1);
    o.program = name;
    if (name == "mailq")
        o.mode = Mode::Queue;
    else if (name == "newaliases")
        o.mode = Mode::Aliases;

    size_t i = 1;
    for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.size() < 2 || a[0] != '-')
            break; // first non-option: the recipients start here
        if (a[1] == '-') {
            Status st = apply_long(o, argv, i);
            if (!st)
                return st.error();
            continue;
        }
        for (size_t k = 1; k < a.size(); ++k) {
            char c = a[k];
            if (c == 'q') {
                // Any -q form (-q, -q1h, -qIid) runs the queue once now.
                o.mode = Mode::Flush;
                break;
            }
            if (takes_argument(c)) {
                std::string arg;
                if (k + 1 < a.size())
                    arg = a.substr(k + 1);
                else if (i + 1 < argv.size())
                    arg = argv[++i];
                else
                    return usage(o.program, std::string("option -") + c + " requires an argument");
                Status st = apply(o, c, arg);
                if (!st)
                    return st.error();
                break;
            }
            if (!no_argument(c))
                return usage(o.program, std::string("unknown option -") +
                                            printable(std::string_view(&a[k], 1)));
            Status st = apply(o, c, {});
            if (!st)
                return st.error();
        }
    }
    for (; i < argv.size(); ++i)
        o.recipients.push_back(argv[i]);
    if (o.mode != Mode::Status &&
        (o.status_json || o.prometheus || o.warn_age >= 0 || o.crit_age >= 0))
        return usage(o.program, "--json, --prometheus, --warn and --crit go with --status");
    if (o.status_json && o.prometheus)
        return usage(o.program, "--json and --prometheus exclude each other");
    if (o.mode != Mode::Import && !o.import_format.empty())
        return usage(o.program, "--format goes with --import");
    if ((o.mode == Mode::Status || o.mode == Mode::Import) && !o.recipients.empty())
        return usage(o.program, "unexpected argument '" + printable(o.recipients[0]) + "'");
    return o;
}

} // namespace postern::submit
