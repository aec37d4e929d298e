"""The static HTML report: ``build_report`` (:mod:`.build`), its HTML (:mod:`.html`) and the
reference codecs it compares against (:mod:`.codecs`)."""
