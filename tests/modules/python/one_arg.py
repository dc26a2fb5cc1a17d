def scrape_process(driver):
    return {"got": driver}
