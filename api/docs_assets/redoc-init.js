// Starts ReDoc on /redoc from local files (no CDN, no Google Fonts, no inline script).
Redoc.init("/openapi.json", { hideDownloadButton: false }, document.getElementById("redoc"));
