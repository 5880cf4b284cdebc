#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Writes the hostile-input corpus: one data file per input in this
directory and the table cases.json that tests/robust/test_bad_input.py
runs. Re-run after editing CASES; commit the output.

Table row keys:
  name     unique name
  argv     arguments after "postern -C CONF" (strings; lone surrogates
           \\udcXX stand for raw bytes, os.fsencode turns them back);
           "@RCPTS:n@" expands to n recipients r0@example.com...
  stdin    data file name, or "gen:KIND:N" built at run time (big inputs)
  config   data file used as the config (@SPOOL@, @TMP@ replaced), or
           "gen:KIND:N"; absent: the default test config
  aliases  data file installed as TMP/aliases (@TMP@ replaced)
  files    {name: data file} copied into TMP (for :include:)
  exit     expected exit status
  stderr   substring expected on stderr ("" = anything)
  spool    "empty": no file at all in incoming/ (and no queue/);
           "one": exactly one committed, well-formed drop file
  stdout   optional substring expected on stdout
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MSG = "Subject: test\n\nhello\n"
CASES = []
FILES = {}


def f(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    FILES[name] = data
    return name


def case(name, argv, exit, stderr, spool=None, stdin="plain.eml", **kw):
    if spool is None:
        spool = "one" if exit == 0 else "empty"
    row = {"name": name, "argv": argv, "stdin": stdin, "exit": exit, "stderr": stderr,
           "spool": spool}
    row.update(kw)
    CASES.append(row)


f("plain.eml", MSG)

# --- header/command injection through every argument ------------------------
for flag in ["-f", "-r"]:
    case("inject%s_crlf_rcpt" % flag, [flag, "a@example.com\r\nRCPT TO:<evil@x.org>", "-odq", "u@example.com"], 65, "control")
    case("inject%s_lf" % flag, [flag, "a@example.com\nBcc: evil@x.org", "-odq", "u@example.com"], 65, "control")
case("inject-f_c0", ["-f", "a\x01b@example.com", "-odq", "u@example.com"], 65, "control")
case("inject-f_del", ["-f", "a\x7fb@example.com", "-odq", "u@example.com"], 65, "control")
case("inject-f_bad_utf8", ["-f", "a\udcffb@example.com", "-odq", "u@example.com"], 65, "not valid UTF-8")
case("inject-F_lf_bcc", ["-F", "Name\nBcc: evil@x.org", "-odq", "u@example.com"], 65, "control")
case("inject-F_cr", ["-F", "Name\rX-Evil: 1", "-odq", "u@example.com"], 65, "control")
case("inject-F_crlf", ["-F", "Name\r\n\r\nbody injected", "-odq", "u@example.com"], 65, "control")
case("inject_rcpt_lf", ["-odq", "u@example.com\nBcc: evil@x.org"], 65, "control")
case("inject_rcpt_crlf_data", ["-odq", "u@example.com\r\nDATA"], 65, "control")
case("inject_rcpt_esc", ["-odq", "u\x1b[2J@example.com"], 65, "control")
case("inject_rcpt_bad_utf8", ["-odq", "u\udcc3@example.com"], 65, "not valid UTF-8")
case("inject_second_rcpt_lf", ["-odq", "ok@example.com", "u@example.com\nX: y"], 65, "control")
case("inject-N_lf", ["-N", "never\nX-Evil: 1", "-odq", "u@example.com"], 64, "invalid -N")
case("inject-R_crlf", ["-R", "hdrs\r\nX-Evil: 1", "-odq", "u@example.com"], 64, "invalid -R")
case("inject-B_lf", ["-B", "8BITMIME\nX", "-odq", "u@example.com"], 64, "invalid -B")
case("inject-V_lf", ["-V", "envid\nX-Evil: 1", "-odq", "u@example.com"], 65, "")
case("inject-V_cr", ["-V", "envid\rX", "-odq", "u@example.com"], 65, "")
case("inject-L_lf_ignored", ["-L", "tag\nX-Evil: 1", "-odq", "u@example.com"], 0, "")
case("inject-h_lf_ignored", ["-h", "5\nX", "-odq", "u@example.com"], 0, "")

# --- recipients ---------------------------------------------------------------
case("rcpts_10000", ["-odq", "@RCPTS:10000@"], 0, "")
case("rcpt_localpart_65", ["-odq", "a" * 65 + "@example.com"], 67, "")
case("rcpt_domain_256", ["-odq", "a@" + ("b" * 63 + ".") * 4 + "com"], 67, "")
case("rcpt_double_at", ["-odq", "a@b@example.com"], 67, "more than one '@'")
case("rcpt_empty_string", ["-odq", ""], 67, "")
case("rcpt_angle_empty", ["-odq", "<>"], 67, "")
case("rcpt_only_domain", ["-odq", "@example.com"], 67, "")
case("rcpt_dash_without_ddash", ["-odq", "-x@example.com"], 64, "unknown option")
case("rcpt_unbalanced_angle", ["-odq", "<u@example.com"], 67, "")
case("rcpt_unterminated_quote", ["-odq", "\"u@example.com"], 67, "")
case("rcpt_source_route_dropped", ["-odq", "@evil.org:u@example.com"], 0, "")
case("rcpt_space_before_at", ["-odq", "u @example.com"], 0, "")

# --- flags ------------------------------------------------------------------
case("unknown_flag", ["-Z", "u@example.com"], 64, "unknown option -Z")
case("unknown_long", ["--bogus", "u@example.com"], 64, "unknown option --bogus")
case("unknown_mode", ["-bz", "u@example.com"], 64, "unsupported mode -bz")
case("f_missing_arg", ["-odq", "-f"], 64, "requires an argument")
case("no_recipients", ["-odq"], 64, "no recipients")
case("bad_N", ["-N", "sometimes", "-odq", "u@example.com"], 64, "invalid -N")
case("bad_R", ["-R", "all", "-odq", "u@example.com"], 64, "invalid -R")
case("bad_B", ["-B", "BINARYMIME", "-odq", "u@example.com"], 64, "invalid -B")

# --- message content ------------------------------------------------------------
case("header_line_1MB", ["-odq", "u@example.com"], 65, "header section exceeds", stdin="gen:longheader:1048576")
case("header_section_2MB_many", ["-odq", "u@example.com"], 65, "header section exceeds", stdin="gen:manyheaders:40000")
case("body_line_1MB", ["-odq", "u@example.com"], 0, "", stdin="gen:longbody:1048576")
# Header bytes never refuse a message (issue 10 part 3; these five rows and
# header_name_10k were 65 before): NUL, control bytes and invalid UTF-8 in a
# header are RFC 2047-encoded (NUL and ESC as control pictures, bytes outside
# UTF-8 as ISO-8859-1), so the spooled header section is 7-bit.
case("nul_in_header", ["-odq", "u@example.com"], 0, "", stdin=f("nul_header.eml", "Subject: a\0b\n\nbody\n"))
case("nul_in_header_name_starts_body", ["-odq", "u@example.com"], 0, "", stdin=f("nul_header_name.eml", "X-A\0B: c\nSubject: x\n\nbody\n"))
case("nul_in_body", ["-odq", "u@example.com"], 0, "", stdin=f("nul_body.eml", "Subject: a\n\nbo\0dy\n"))
case("nul_in_multipart_body", ["-odq", "u@example.com"], 65, "",
     stdin=f("nul_multipart.eml", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\0y\n--b--\n"))
case("bad_utf8_header", ["-odq", "u@example.com"], 0, "", stdin=f("bad_utf8_header.eml", b"Subject: \xc3\x28 \xff\xfe\n\nbody\n"))
case("overlong_utf8_header", ["-odq", "u@example.com"], 0, "", stdin=f("overlong_utf8_header.eml", b"Subject: \xc0\xaf\n\nbody\n"))
case("surrogate_utf8_header", ["-odq", "u@example.com"], 0, "", stdin=f("surrogate_utf8_header.eml", b"Subject: \xed\xa0\x80\n\nbody\n"))
case("bad_utf8_body", ["-odq", "u@example.com"], 0, "", stdin=f("bad_utf8_body.eml", b"Subject: x\n\n\xff\xfe\xc3\x28\n"))
case("ctrl_in_header", ["-odq", "u@example.com"], 0, "", stdin=f("ctrl_header.eml", "Subject: a\x1bb\n\nbody\n"))
case("bare_cr_smuggle", ["-odq", "-i", "u@example.com"], 0, "", stdin=f("cr_smuggle.eml", "Subject: x\n\na\r.\r\nMAIL FROM:<e@x>\r\n\n.\nRCPT\n"))
case("two_from", ["-odq", "u@example.com"], 65, "From", stdin=f("two_from.eml", "From: a@example.com\nFrom: b@example.com\n\nx\n"))
case("empty_input", ["-odq", "u@example.com"], 0, "", stdin=f("empty.eml", ""))
case("binary_garbage", ["-odq", "u@example.com"], 0, "", stdin=f("garbage.bin", bytes((i * 197 + 13) % 256 for i in range(4096))))
case("continuation_first", ["-odq", "u@example.com"], 0, "", stdin=f("continuation_first.eml", " folded: first\nSubject: x\n\nbody\n"))
# A 10000-octet "field name" cannot be folded onto a 998-octet line: it is
# no field, so that line starts the body (long body lines go out
# quoted-printable), like any other line that is not a field.
case("header_name_10k", ["-odq", "u@example.com"], 0, "", stdin=f("header_name_10k.eml", "X" * 10000 + ": v\n\nbody\n"))
case("mbox_from_line_first", ["-odq", "u@example.com"], 0, "", stdin=f("mbox_from.eml", "From evil@x Mon Jan  1 00:00:00 2024\nSubject: x\n\nFrom here\n>From there\n"))

# --- -t address lists -----------------------------------------------------------
case("t_unterminated_quote", ["-t", "-odq"], 65, "", stdin=f("t_unterminated_quote.eml", "To: \"John <j@example.com>\n\nx\n"))
case("t_unterminated_comment", ["-t", "-odq"], 65, "", stdin=f("t_unterminated_comment.eml", "To: j@example.com (John\n\nx\n"))
case("t_unbalanced_angle", ["-t", "-odq"], 65, "", stdin=f("t_unbalanced_angle.eml", "To: John <j@example.com\n\nx\n"))
case("t_nested_comments_deep", ["-t", "-odq"], 0, "", stdin="gen:deepcomment:200000")
case("t_many_groups", ["-t", "-odq"], 64, "no recipients", stdin="gen:groups:200000")
case("t_no_recipients", ["-t", "-odq"], 64, "no recipients", stdin=f("t_none.eml", "Subject: nobody\n\nx\n"))
case("t_only_empty_group", ["-t", "-odq"], 64, "no recipients", stdin=f("t_group.eml", "To: undisclosed-recipients:;\n\nx\n"))
case("t_empty_to", ["-t", "-odq"], 64, "no recipients", stdin=f("t_empty_to.eml", "To:\nCc:  \n\nx\n"))
case("t_bcc_only", ["-t", "-odq"], 0, "", stdin=f("t_bcc.eml", "Bcc: hidden@example.com\nSubject: x\n\nx\n"))
case("t_to_injection_folded", ["-t", "-odq"], 0, "", stdin=f("t_folded_inject.eml", "To: a@example.com,\n b@example.com\r\nSubject: x\n\nx\n"))
case("t_bad_local_part", ["-t", "-odq"], 67, "local part longer than 64", stdin=f("t_bad_addr.eml", "To: " + "a" * 65 + "@example.com\n\nx\n"))
case("t_10000_in_to", ["-t", "-odq"], 0, "", stdin="gen:torcpts:10000")

# --- configuration -----------------------------------------------------------------
BASECONF = "[queue]\ndir = @SPOOL@\n[local]\nmailbox = @TMP@/mail/%u\naliases = @TMP@/aliases\n[sender]\ndomain = example.org\n"
case("config_1MB_value", ["-odq", "u@example.com"], 78, "postern.conf: larger than 1 MiB", config="gen:bigvalue:1048576")
case("config_nul", ["-odq", "u@example.com"], 78, "NUL byte", config=f("conf_nul.conf", BASECONF + "[relay]\nhost = a\0b\n"))
case("config_nul_in_key", ["-odq", "u@example.com"], 78, "postern.conf:9: NUL byte", config=f("conf_nul_key.conf", BASECONF + "[relay]\nho\0st = a\n"))
case("config_unknown_key", ["-odq", "u@example.com"], 78, "postern.conf:8: unknown key 'hots'", config=f("conf_unknown_key.conf", BASECONF + "hots = x\n"))
case("config_unknown_section", ["-odq", "u@example.com"], 78, "unknown section [rela]", config=f("conf_unknown_section.conf", BASECONF + "[rela]\n"))
case("config_duplicate_key", ["-odq", "u@example.com"], 78, "postern.conf:10: duplicate key 'port'", config=f("conf_dup.conf", BASECONF + "[relay]\nport = 25\nport = 26\n"))
case("config_no_equals", ["-odq", "u@example.com"], 78, "postern.conf:9: syntax error", config=f("conf_noeq.conf", BASECONF + "[relay]\nhost\n"))
case("config_bad_duration", ["-odq", "u@example.com"], 78, "postern.conf:9: bad value '5 years'", config=f("conf_dur.conf", BASECONF + "[relay]\ntimeout = 5 years\n"))
case("config_bad_port", ["-odq", "u@example.com"], 78, "postern.conf:9: bad value", config=f("conf_port.conf", BASECONF + "[relay]\nport = 99999999999999999999\n"))
case("config_unterminated_section", ["-odq", "u@example.com"], 78, "postern.conf:8: syntax error", config=f("conf_sect.conf", BASECONF + "[relay\n"))
case("config_bad_utf8", ["-odq", "u@example.com"], 78, "invalid UTF-8", config=f("conf_utf8.conf", BASECONF.encode() + b"[relay]\nhost = \xff\xfe\n"))
case("config_binary", ["-odq", "u@example.com"], 78, "postern.conf", config=f("conf_binary.conf", bytes((i * 31 + 7) % 256 for i in range(2048))))

# --- aliases (-bv, -bi) ---------------------------------------------------------------
case("aliases_loop_bv", ["-bv", "a"], 0, "", stdout="a: local (mailbox", spool="empty", aliases=f("aliases_loop", "a: b\nb: c\nc: a\n"))
case("aliases_self_bv", ["-bv", "a"], 0, "", stdout="a: local (mailbox", spool="empty", aliases=f("aliases_self", "a: a\n"))
case("aliases_self_include_bv", ["-bv", "a"], 78, "nested too deep",
     aliases=f("aliases_include", "a: :include:@TMP@/inc\n"), files={"inc": f("inc_self", ":include:@TMP@/inc\n")})
case("aliases_deep_bv", ["-bv", "n0"], 78, "aliases:33: aliases nested too deep", aliases=f("aliases_deep", "".join("n%d: n%d\n" % (i, i + 1) for i in range(40))))
case("aliases_wide_bv", ["-bv", "w0"], 0, "", stdout="w0 -> w30: local", spool="empty", aliases=f("aliases_wide", "".join("w%d: %s\n" % (i, ", ".join("w%d" % (i + 1) for _ in range(8))) for i in range(30))))
case("aliases_unbalanced_quote_bi", ["-bi"], 78, "aliases:1: unbalanced quote", aliases=f("aliases_quote", "a: \"|cmd\n"))
case("aliases_nul_bi", ["-bi"], 78, "aliases:1: NUL byte", aliases=f("aliases_nul", "a: b\0c\n"))
case("aliases_no_colon_bi", ["-bi"], 78, "aliases:2", aliases=f("aliases_nocolon", "a: b\njunk line\n"))
case("aliases_1MB_line_bi", ["-bi"], 0, "", stdout="1 aliases", spool="empty", aliases="gen:bigalias:1048576")
case("aliases_loop_submit", ["-odq", "a"], 0, "", aliases="aliases_loop")


if __name__ == "__main__":
    for name, data in FILES.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    with open(os.path.join(HERE, "cases.json"), "w") as fh:
        json.dump(CASES, fh, indent=1, ensure_ascii=True)
        fh.write("\n")
    print(len(CASES), "cases,", len(FILES), "files")
