"""The ISAKMP resets (spec/isakmp-commands.md §2.4, §2.8) on a console
without a router (no ISAKMP daemon runs): ``reset isakmp policy`` checks its
argument and says there is nothing to reset, never "Operation successful";
``reset isakmp counters`` checks its categories (that it clears them:
test_isakmp_displays.py). On a router they act
(tests/test_router_isakmp_control.py)."""
import pytest

from pacsim.firmware.cli import SUCCESS, BadValue, CommandFailed, OutOfRange
from pacsim.firmware.console import standalone_console


@pytest.fixture
def c():
    console = standalone_console(clock=lambda: 0.0)
    console.execute('cre isa pol="tester" pe=192.168.2.1 key=5')
    return console


@pytest.mark.parametrize("line, answer", [
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



@pytest.mark.parametrize("group, longest", [(0, 511), (1, 767), (2, 1023), (5, 1535), (14, 2047)])
def test_groups_and_their_longest_exponent(c, group, longest):
    """The manual's groups 0-2 (L3451-3458) and the extension groups 5 and
    14 (RFC 3526): the longest exponent is accepted, one bit more refused."""
    c.execute(f'cre isa pol="g{group}" pe=192.168.2.{group + 2} key=5 gro={group} dhe={longest}')
    assert c.isakmp.policy(f"g{group}").group == group
    with pytest.raises((CommandFailed, OutOfRange)):
        c.execute(f'set isa pol="g{group}" dhe={longest + 1}')
    assert c.isakmp.policy(f"g{group}").dhexponentlength == longest
