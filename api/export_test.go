package api

// QRPNG draws a QR code as storeQR does, for tests that check the text it encodes.
var QRPNG = qrPNG
