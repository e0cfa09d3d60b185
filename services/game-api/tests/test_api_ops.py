from questline_api.app import close_app


def test_healthz_answers_without_kafka(client, producer):
    producer.reachable = False
    assert client.get("/healthz").json == {"status": "alive"}


def test_readyz_follows_kafka_reachability(client, producer):
    assert client.get("/readyz").status_code == 200
    producer.reachable = False
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "Retry-After" in response.headers


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/purchase_a_sword")
    client.get("/no/such/page")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'questline_api_requests_total{method="GET",route="/purchase_a_sword",status="200"}' in text
    assert 'questline_api_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert "questline_api_request_duration_seconds_bucket" in text
    assert 'questline_api_events_produced_total{event_type="purchase_sword"}' in text
    assert "questline_api_producer_queue_length" in text
    assert "questline_api_produce_errors_total" in text


def test_unexpected_error_is_a_500_problem(app, client, producer):
    def explode(records, timeout):
        raise RuntimeError("boom")

    producer.send = explode
    response = client.get("/purchase_a_sword")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "boom" not in response.get_data(as_text=True)


def test_closing_the_app_flushes_the_producer(app, producer):
    close_app(app)
    assert producer.closed
