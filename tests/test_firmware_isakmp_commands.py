"""The ISAKMP resets (spec/isakmp-commands.md §2.4, §2.8) on a console
without a router (no ISAKMP daemon runs): they check their arguments and
say that there is nothing to reset, never "Operation successful". On a
router they act (tests/test_router_isakmp_control.py)."""
import pytest

from pacsim.firmware.cli import SUCCESS, BadValue, CommandFailed
from pacsim.firmware.console import standalone_console


@pytest.fixture
def c():
    console = standalone_console(clock=lambda: 0.0)
    console.execute('cre isa pol="tester" pe=192.168.2.1 key=5')
    return console


@pytest.mark.parametrize("line, answer", [
    ("reset isa cou", "Info: ISAKMP counters were not cleared: none are kept, as no ISAKMP daemon runs on "
                      "this configuration."),
    ("reset isa cou=main,quick", "Info: the main, quick counters were not cleared: none are kept, as no ISAKMP "
                                 "daemon runs on this configuration."),                      # L4871
    ("reset isa pol=tester", 'Info: ISAKMP policy "tester" has no SAs to remove and nothing to restart: no ISAKMP '
                             "daemon runs on this configuration."),                          # L4927
])
def test_resets_say_there_is_nothing_to_reset(c, line, answer):
    out = c.execute(line)
    assert out == answer and out != SUCCESS


def test_resets_check_their_arguments(c):
    with pytest.raises(BadValue, match="everything"):
        c.execute("reset isa cou=everything")
    with pytest.raises(CommandFailed, match='ISAKMP policy "nobody" does not exist'):
        c.execute("reset isa pol=nobody")
