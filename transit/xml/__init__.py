"""Transit messages as XML: NCTS phase 5 messages read into and written from ``transit.data``.

The schemas in ``xsd/`` are the EU DG TAXUD NCTS phase 5 schemas (version 51.8.6) as redistributed by
HMRC in hmrc/transit-movements-validator ``conf/v2_1/xsd`` at commit
68a8209b8e2265a6e4d08df09849b3b5aa59f3a1 (Apache-2.0), copied unchanged: only the files CC015C needs.
"""
