"""gateway.printable: the one rule for caller text in audit records and the access log."""

from gateway import printable


def test_controls_separators_and_bidi_overrides_are_escaped_and_the_rest_kept():
    text = "a\x00b\x1b[2J\x7f\x9bc\u2028d\u2029e\u202af\u202eg\u2066h\u2069i"
    assert printable.escape(text) == ("a\\x00b\\x1b[2J\\x7f\\x9bc\\u2028d\\u2029e\\u202af\\u202eg"
                                      "\\u2066h\\u2069i")
    kept = "Müller-Łukasz Παπαδόπουλος Иванов 🙂 é \\ \""
    assert printable.escape(kept) == kept


def test_a_log_format_adds_its_own_characters():
    line = printable.escaper('\\"')
    assert printable.escape('say "hi"\\\n', line) == 'say \\x22hi\\x22\\x5c\\x0a'
    assert printable.escape('say "hi"\\') == 'say "hi"\\'  # the default leaves them
