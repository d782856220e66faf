package dev.aside.elasticsearch;

import org.elasticsearch.TransportVersion;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.index.query.QueryRewriteContext;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.RescorerBuilder;
import org.elasticsearch.xcontent.ConstructingObjectParser;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import static org.elasticsearch.xcontent.ConstructingObjectParser.constructorArg;
import static org.elasticsearch.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code "rescore": {"window_size": 100, "aside": {"query": "...", "fields": [...], "task": "...", ...}}}.
 * Elasticsearch runs rescorers per shard, synchronously, on a search thread: each shard re-ranks only its
 * own top window and the thread waits for Aside. Results equal the aside_rerank retriever's on
 * single-shard indexes only; prefer the retriever.
 */
public final class AsideRescorerBuilder extends RescorerBuilder<AsideRescorerBuilder> {
    public static final String NAME = "aside";

    @SuppressWarnings("unchecked")
    private static final ConstructingObjectParser<RerankOptions, Void> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        a -> RerankOptions.of((String) a[0], (List<String>) a[1], (String) a[2], (String) a[3], (Blend) a[4], (String) a[5], (String) a[6])
    );
    static {
        PARSER.declareString(constructorArg(), RerankOptions.QUERY);
        PARSER.declareStringArray(constructorArg(), RerankOptions.FIELDS);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TITLE_FIELD);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TASK);
        PARSER.declareObject(optionalConstructorArg(), (p, c) -> Blend.PARSER.apply(p, null), RerankOptions.BLEND);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.ON_FAILURE);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TIMEOUT);
    }

    public static AsideRescorerBuilder fromXContent(XContentParser parser, Supplier<AsideClient> client) {
        return new AsideRescorerBuilder(client, PARSER.apply(parser, null));
    }

    private final Supplier<AsideClient> client;
    private final RerankOptions options;

    AsideRescorerBuilder(Supplier<AsideClient> client, RerankOptions options) {
        this.client = client;
        this.options = options;
    }

    public AsideRescorerBuilder(StreamInput in, Supplier<AsideClient> client) throws IOException {
        super(in);
        this.client = client;
        this.options = new RerankOptions(in);
    }

    @Override
    protected void doWriteTo(StreamOutput out) throws IOException {
        options.writeTo(out);
    }

    @Override
    public String getWriteableName() {
        return NAME;
    }

    @Override
    public TransportVersion getMinimalSupportedVersion() {
        return TransportVersion.minimumCompatible();
    }

    @Override
    protected void doXContent(XContentBuilder b, Params params) throws IOException {
        b.startObject(NAME);
        options.toXContentFields(b);
        b.endObject();
    }

    @Override
    protected RescoreContext innerBuildContext(int windowSize, SearchExecutionContext context) {
        return new RescoreContext(windowSize, new AsideRescorer(client.get(), options));
    }

    @Override
    public AsideRescorerBuilder rewrite(QueryRewriteContext ctx) {
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && options.equals(((AsideRescorerBuilder) o).options);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), options);
    }
}
