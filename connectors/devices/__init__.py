"""Device readings (issue 22.4): BP cuffs and glucometers registered to residents, readings from vendor clouds by
signed webhook (`api`, `services`, `adapters`), and a parser of the standard Bluetooth GATT characteristics (`ble`)."""
