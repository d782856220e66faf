package dev.aside.elasticsearch;

import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.action.ActionListener;
import org.elasticsearch.action.support.ContextPreservingActionListener;
import org.elasticsearch.common.bytes.BytesReference;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.Nullable;
import org.elasticsearch.core.TimeValue;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.threadpool.ThreadPool;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;
import org.elasticsearch.xcontent.XContentParserConfiguration;
import org.elasticsearch.xcontent.json.JsonXContent;

import java.io.Closeable;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.CompletionException;

/**
 * Non-blocking HTTP client for Aside's /v1/rerank and /v1/embed. Requests go out through
 * java.net.http's async API; answers are handed back on Elasticsearch's generic pool with the caller's
 * thread context restored, so no search, transport or ingest thread ever waits on the network.
 */
public final class AsideClient implements Closeable {
    private final HttpClient http;
    private final ThreadPool threadPool;
    @Nullable
    private final String apiKey;
    private final Semaphore permits;
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();
    private volatile String url;
    private volatile TimeValue timeout;

    public AsideClient(Settings settings, @Nullable String apiKey, ThreadPool threadPool) {
        this.threadPool = threadPool;
        this.apiKey = apiKey;
        this.url = stripSlash(AsideSettings.URL.get(settings));
        this.timeout = AsideSettings.TIMEOUT.get(settings);
        this.permits = new Semaphore(AsideSettings.MAX_CONCURRENT_REQUESTS.get(settings));
        this.http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofMillis(AsideSettings.CONNECT_TIMEOUT.get(settings).millis()))
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    }

    private static String stripSlash(String u) {
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    public void setUrl(String url) {
        this.url = stripSlash(url);
    }

    public void setTimeout(TimeValue timeout) {
        this.timeout = timeout;
    }

    public String url() {
        return url;
    }

    /** Raw re-ranker scores, one per document in input order. */
    public void rerank(String query, List<AsideDocument> documents, @Nullable String task, @Nullable TimeValue limit, ActionListener<float[]> listener) {
        byte[] body;
        try {
            body = rerankBody(query, documents, task);
        } catch (IOException e) {
            listener.onFailure(e);
            return;
        }
        post("/v1/rerank", body, limit, listener.delegateFailureAndWrap((l, bytes) -> l.onResponse(parseRerank(bytes, documents.size()))));
    }

    /**
     * The same call, blocking the calling thread until Aside answers or the timeout passes. Only for the
     * rescorer, which Elasticsearch runs synchronously on a search thread; everything else is asynchronous.
     */
    public float[] rerankBlocking(String query, List<AsideDocument> documents, @Nullable String task, @Nullable TimeValue limit) throws Exception {
        String target = url + "/v1/rerank";
        TimeValue t = limit != null ? limit : timeout;
        HttpResponse<byte[]> resp;
        try {
            resp = http.send(request(target, rerankBody(query, documents, task), t), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw e;
        } catch (IOException e) {
            throw transportFailure(target, t, e);
        }
        if (resp.statusCode() >= 300) throw httpFailure(target, resp);
        return parseRerank(resp.body(), documents.size());
    }

    private static byte[] rerankBody(String query, List<AsideDocument> documents, @Nullable String task) throws IOException {
        try (XContentBuilder b = JsonXContent.contentBuilder()) {
            b.startObject().field("query", query);
            AsideDocument.array(b, "documents", documents);
            if (task != null) b.field("task", task);
            return bytes(b.endObject());
        }
    }

    /** One vector per input, for `inputType` "query" or "document". */
    public void embed(List<AsideDocument> inputs, @Nullable String task, String inputType, @Nullable TimeValue limit, ActionListener<List<float[]>> listener) {
        byte[] body;
        try (XContentBuilder b = JsonXContent.contentBuilder()) {
            b.startObject();
            AsideDocument.array(b, "inputs", inputs);
            b.field("input_type", inputType);
            if (task != null) b.field("task", task);
            body = bytes(b.endObject());
        } catch (IOException e) {
            listener.onFailure(e);
            return;
        }
        post("/v1/embed", body, limit, listener.delegateFailureAndWrap((l, bytes) -> l.onResponse(parseEmbed(bytes, inputs.size()))));
    }

    private static byte[] bytes(XContentBuilder b) {
        return BytesReference.toBytes(BytesReference.bytes(b));
    }

    private void post(String path, byte[] body, @Nullable TimeValue limit, ActionListener<byte[]> listener) {
        String target = url + path;
        TimeValue t = limit != null ? limit : timeout;
        HttpRequest req;
        try {
            req = request(target, body, t);
        } catch (ElasticsearchStatusException e) {
            listener.onFailure(e);
            return;
        }
        ActionListener<byte[]> l = ContextPreservingActionListener.wrapPreservingContext(listener, threadPool.getThreadContext());
        waiting.add(() -> {
            try {
                http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((resp, err) -> threadPool.generic().execute(() -> {
                    permits.release();
                    drain();
                    if (err != null) {
                        l.onFailure(transportFailure(target, t, err));
                    } else if (resp.statusCode() >= 300) {
                        l.onFailure(httpFailure(target, resp));
                    } else {
                        l.onResponse(resp.body());
                    }
                }));
            } catch (RuntimeException e) {
                permits.release();
                l.onFailure(e);
            }
        });
        drain();
    }

    /** Sends queued requests while permits last; called after every enqueue and every completion. */
    private void drain() {
        while (waiting.isEmpty() == false && permits.tryAcquire()) {
            Runnable send = waiting.poll();
            if (send == null) {
                permits.release();
            } else {
                send.run();
            }
        }
    }

    private HttpRequest request(String target, byte[] body, TimeValue t) {
        HttpRequest.Builder req;
        try {
            req = HttpRequest.newBuilder(URI.create(target))
                .timeout(Duration.ofMillis(t.millis()))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        } catch (IllegalArgumentException e) {
            throw new ElasticsearchStatusException("aside.url [{}] is not a valid URL", RestStatus.BAD_REQUEST, e, url);
        }
        if (apiKey != null) req.header("authorization", "Bearer " + apiKey);
        return req.build();
    }

    private static ElasticsearchStatusException transportFailure(String target, TimeValue t, Throwable err) {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (cause instanceof HttpTimeoutException) {
            return new ElasticsearchStatusException("Aside did not answer [{}] within [{}]", RestStatus.GATEWAY_TIMEOUT, cause, target, t);
        }
        String why = cause instanceof ConnectException ? "connection refused" : String.valueOf(cause.getMessage());
        return new ElasticsearchStatusException("Aside is unreachable at [{}]: {}", RestStatus.SERVICE_UNAVAILABLE, cause, target, why);
    }

    private static ElasticsearchStatusException httpFailure(String target, HttpResponse<byte[]> resp) {
        String text = new String(resp.body(), StandardCharsets.UTF_8);
        String message = text;
        try (XContentParser p = JsonXContent.jsonXContent.createParser(XContentParserConfiguration.EMPTY, resp.body())) {
            Object error = p.map().get("error");
            if (error != null) message = String.valueOf(error);
        } catch (Exception ignored) {
            // not JSON: keep the raw text
        }
        if (message.length() > 500) message = message.substring(0, 500) + "…";
        // Aside's 4xx is the caller's fault (unknown task, bad text): say so; its 5xx is a gateway failure.
        RestStatus status = resp.statusCode() < 500 ? RestStatus.BAD_REQUEST : RestStatus.BAD_GATEWAY;
        return new ElasticsearchStatusException("Aside answered [{}] with HTTP {}: {}", status, target, resp.statusCode(), message);
    }

    static float[] parseRerank(byte[] json, int n) throws IOException {
        try (XContentParser p = JsonXContent.jsonXContent.createParser(XContentParserConfiguration.EMPTY, json)) {
            float[] scores = new float[n];
            boolean[] seen = new boolean[n];
            for (Object o : p.list()) {
                Map<?, ?> r = (Map<?, ?>) o;
                int i = ((Number) r.get("index")).intValue();
                if (i < 0 || i >= n) throw new IOException("Aside returned index " + i + " for " + n + " documents");
                scores[i] = ((Number) r.get("relevance_score")).floatValue();
                seen[i] = true;
            }
            for (int i = 0; i < n; i++) if (seen[i] == false) throw new IOException("Aside returned no score for document " + i);
            return scores;
        }
    }

    static List<float[]> parseEmbed(byte[] json, int n) throws IOException {
        try (XContentParser p = JsonXContent.jsonXContent.createParser(XContentParserConfiguration.EMPTY, json)) {
            List<Object> rows = p.list();
            if (rows.size() != n) throw new IOException("Aside returned " + rows.size() + " vectors for " + n + " inputs");
            List<float[]> out = new ArrayList<>(n);
            for (Object row : rows) {
                List<?> values = (List<?>) row;
                float[] v = new float[values.size()];
                for (int i = 0; i < v.length; i++) v[i] = ((Number) values.get(i)).floatValue();
                out.add(v);
            }
            return out;
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
