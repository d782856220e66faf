package dev.aside.elasticsearch;

import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.Query;
import org.elasticsearch.TransportVersion;
import org.elasticsearch.client.internal.Client;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.search.rank.RankBuilder;
import org.elasticsearch.search.rank.RankDoc;
import org.elasticsearch.search.rank.context.QueryPhaseRankCoordinatorContext;
import org.elasticsearch.search.rank.context.QueryPhaseRankShardContext;
import org.elasticsearch.search.rank.context.RankFeaturePhaseRankCoordinatorContext;
import org.elasticsearch.search.rank.context.RankFeaturePhaseRankShardContext;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The rank-feature-phase half of `aside_rerank`: put on the inner search by the retriever, it makes each
 * shard return its window hits' texts and the coordinating node re-score the merged window through Aside.
 * Never parsed from a request (the retriever builds it), but it travels between nodes.
 */
public final class AsideRankBuilder extends RankBuilder {
    public static final String NAME = "aside_rerank";

    private final Supplier<AsideClient> client;
    private final RerankOptions options;

    AsideRankBuilder(Supplier<AsideClient> client, int rankWindowSize, RerankOptions options) {
        super(rankWindowSize);
        this.client = client;
        this.options = options;
    }

    public AsideRankBuilder(StreamInput in, Supplier<AsideClient> client) throws IOException {
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
        options.toXContentFields(b);
    }

    @Override
    public boolean isCompoundBuilder() {
        return false;
    }

    @Override
    public Explanation explainHit(Explanation base, RankDoc doc, List<String> queryNames) {
        if (doc == null || base.isMatch() == false) return base;
        return Explanation.match(doc.score, "aside_rerank: rank [" + doc.rank + "] after re-ranking by Aside task [" + (options.task() == null ? "default" : options.task()) + "]", base);
    }

    @Override
    public QueryPhaseRankShardContext buildQueryPhaseShardContext(List<Query> queries, int from) {
        return null;
    }

    @Override
    public QueryPhaseRankCoordinatorContext buildQueryPhaseCoordinatorContext(int size, int from) {
        return null;
    }

    @Override
    public RankFeaturePhaseRankShardContext buildRankFeaturePhaseShardContext() {
        return new FieldsRankFeatureShardContext(options);
    }

    @Override
    public RankFeaturePhaseRankCoordinatorContext buildRankFeaturePhaseCoordinatorContext(int size, int from, Client unused) {
        return new AsideRerankCoordinatorContext(size, from, rankWindowSize(), client.get(), options);
    }

    @Override
    protected boolean doEquals(RankBuilder other) {
        return options.equals(((AsideRankBuilder) other).options);
    }

    @Override
    protected int doHashCode() {
        return options.hashCode();
    }
}
