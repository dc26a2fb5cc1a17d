"""Starts a thread when imported: preloading it must be refused."""
import threading
import time

threading.Thread(target=lambda: time.sleep(3600), daemon=True).start()
