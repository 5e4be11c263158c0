"""Reports for the supervisor console: chart data, CSV and XLSX exports, the
printable daily report (built on :mod:`trunkline.dialer.campaigns.reports`)."""
