"""The submodels of one month, one file each, in the order of the ODD's schedule (section 3).

``policy_month`` (controls in force, reactions) -> ``investment`` (trade status, deals, financing) ->
``demand`` (material need) -> ``mining`` -> ``separation`` (concentrate market, separation) ->
``orders`` (users, makers, stockpiles, traders) -> ``oxides`` (oxide market, magnet making) ->
``magnets`` (magnet market) -> ``use`` (transit, stockpile release, consumption, shortage) ->
``prices`` (two zones, arbitrage) -> ``demand.thrift`` -> ``investment`` (memories, signals, decisions).
``state`` holds the state, ``initial`` and ``spinup`` build it, ``trade``, ``china``, ``margins`` and
``capacity`` serve several phases.
"""
