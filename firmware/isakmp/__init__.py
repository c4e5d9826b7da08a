"""ISAKMP/IKE in the router firmware. So far only its configuration is
modelled: the ``create/set/destroy/reset isakmp policy`` and ``enable/
disable isakmp [debug]`` commands are parsed, checked and stored
(:mod:`.policy_config`, :mod:`.commands`); no exchange is run yet."""
