"""Presentation: HTML building blocks (``html``), the comparison report (``report``) and offline asv pages
(``asv_offline``, with the vendored assets in ``asv_vendor/``)."""
