"""The commands XAUTH adds (``add/delete/show radius``, ``set/show isakmp
modeconfig``) on a console: what they store, their refusals (clear errors,
nothing changed) and that no display shows the RADIUS secret."""
import ipaddress

from pacsim.firmware.console import standalone_console


def _console():
    console = standalone_console()
    assert "Error" not in console.run("login manager password=friend")
    return console


def test_radius_servers_are_added_shown_and_deleted():
    console = _console()
    assert console.run("add radius server=10.0.0.5 secret=top-secret") == "Info: RADIUS server 10.0.0.5 port 1812 added."
    assert "Error" not in console.run("add rad serv=10.0.0.6 sec=another port=18120")
    assert console.run("add radius server=10.0.0.5 secret=x") == "Error: RADIUS server 10.0.0.5 already exists"
    shown = console.run("show radius")
    assert "10.0.0.5         1812" in shown and "10.0.0.6         18120" in shown
    assert "secret" not in shown.lower() and "another" not in shown
    servers = console.state.radius.servers
    assert [(str(s.address), s.secret, s.port) for s in servers] == [("10.0.0.5", "top-secret", 1812),
                                                                     ("10.0.0.6", "another", 18120)]
    assert "Error" in console.run("add radius server=10.0.0.7")                      # SECRET is required
    assert "Error" in console.run("add radius server=10.0.0.7 secret=s port=70000")
    assert console.run("delete radius server=10.0.0.9") == "Error: RADIUS server 10.0.0.9 does not exist"
    assert "Error" not in console.run("delete radius server=10.0.0.5")
    assert [str(s.address) for s in console.state.radius.servers] == ["10.0.0.6"]


def test_mode_config_pool_is_set_shown_and_checked():
    console = _console()
    assert "Error" not in console.run("set isakmp modeconfig pool=10.8.0.1-10.8.0.3 dns=10.0.0.53,10.0.0.54 "
                                      "subnet=192.168.1.0/24,192.168.2.0/24")
    pool = console.state.modeconfig
    assert (str(pool.first), str(pool.last)) == ("10.8.0.1", "10.8.0.3")
    assert [str(a) for a in pool.dns] == ["10.0.0.53", "10.0.0.54"] and len(pool.subnets) == 2
    shown = console.run("show isakmp modeconfig")
    assert "Pool ........................ 10.8.0.1-10.8.0.3" in shown and "192.168.2.0/24" in shown
    leased = [pool.lease(bytes([n]) * 8, "198.51.100.1") for n in range(4)]
    assert leased == [ipaddress.IPv4Address(f"10.8.0.{n}") for n in (1, 2, 3)] + [None]      # the pool is full
    pool.release(bytes([1]) * 8)
    assert pool.lease(bytes([9]) * 8, "198.51.100.2") == ipaddress.IPv4Address("10.8.0.2")   # a freed address
    for bad in ("pool=10.8.0.9-10.8.0.1", "pool=10.8.0.1-10.9.0.2", "pool=10.8.0.x",
                "pool=10.8.0.1 subnet=192.168.1.1/24"):
        assert console.run(f"set isakmp modeconfig {bad}").startswith("Error"), bad
    assert (str(pool.first), str(pool.last)) == ("10.8.0.1", "10.8.0.3")                   # unchanged


def test_an_xauth_client_needs_its_credentials():
    """R81: xauthname and xauthpasswd are required when the router is an XAUTH client."""
    console = _console()
    refused = console.run("create isakmp policy=p peer=192.0.2.9 key=1 xauth=client xauthname=remote")
    assert refused.startswith("Error") and "XAUTHNAME and XAUTHPASSWD" in refused and not console.isakmp.policies
    assert "Error" not in console.run("create isakmp policy=p peer=192.0.2.9 key=1 xauth=server")
    assert console.run("set isakmp policy=p xauth=client").startswith("Error")
    assert console.isakmp.policy("p").xauth == "server"
    assert "Error" not in console.run("set isakmp policy=p xauth=client xauthname=remote xauthpass=friend")
    assert (console.isakmp.policy("p").xauth, console.isakmp.policy("p").xauthname) == ("client", "remote")
