package dev.aside.elasticsearch;

import org.apache.lucene.search.ScoreDoc;
import org.elasticsearch.index.query.AbstractQueryBuilder;
import org.elasticsearch.index.query.QueryBuilder;
import org.elasticsearch.search.builder.SearchSourceBuilder;
import org.elasticsearch.search.rank.RankDoc;
import org.elasticsearch.search.retriever.CompoundRetrieverBuilder;
import org.elasticsearch.search.retriever.RetrieverBuilder;
import org.elasticsearch.search.retriever.RetrieverParserContext;
import org.elasticsearch.xcontent.ConstructingObjectParser;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import static org.elasticsearch.search.rank.RankBuilder.DEFAULT_RANK_WINDOW_SIZE;
import static org.elasticsearch.xcontent.ConstructingObjectParser.constructorArg;
import static org.elasticsearch.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * {@code "retriever": {"aside_rerank": {"retriever": {...}, "query": "...", "fields": ["title", "text"],
 * "task": "...", "rank_window_size": 100, "blend": {"rerank": 1, "first_stage": 0}, "on_failure": "fail",
 * "timeout": "10s"}}}: re-ranks the inner retriever's merged top window through Aside on the coordinating
 * node, asynchronously, in the rank-feature phase (the mechanism text_similarity_reranker uses): the
 * inner search carries an {@link AsideRankBuilder}, so it comes back already re-ranked.
 */
public final class AsideRerankRetrieverBuilder extends CompoundRetrieverBuilder<AsideRerankRetrieverBuilder> {
    public static final String NAME = "aside_rerank";
    static final ParseField RETRIEVER = new ParseField("retriever");

    /** Parser context: the retriever parser context plus the plugin's client. */
    record Context(RetrieverParserContext parent, Supplier<AsideClient> client) {}

    @SuppressWarnings("unchecked")
    private static final ConstructingObjectParser<AsideRerankRetrieverBuilder, Context> PARSER = new ConstructingObjectParser<>(
        NAME,
        false,
        (a, c) -> new AsideRerankRetrieverBuilder(
            List.of(RetrieverSource.from((RetrieverBuilder) a[0])),
            c.client(),
            a[6] == null ? DEFAULT_RANK_WINDOW_SIZE : (int) a[6],
            RerankOptions.of((String) a[1], (List<String>) a[2], (String) a[3], (String) a[4], (Blend) a[5], (String) a[7], (String) a[8])
        )
    );

    static {
        PARSER.declareNamedObject(constructorArg(), (p, c, n) -> {
            RetrieverBuilder inner = p.namedObject(RetrieverBuilder.class, n, c.parent());
            c.parent().trackRetrieverUsage(inner);
            return inner;
        }, RETRIEVER);
        PARSER.declareString(constructorArg(), RerankOptions.QUERY);
        PARSER.declareStringArray(constructorArg(), RerankOptions.FIELDS);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TITLE_FIELD);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TASK);
        PARSER.declareObject(optionalConstructorArg(), (p, c) -> Blend.PARSER.apply(p, null), RerankOptions.BLEND);
        PARSER.declareInt(optionalConstructorArg(), RANK_WINDOW_SIZE_FIELD);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.ON_FAILURE);
        PARSER.declareString(optionalConstructorArg(), RerankOptions.TIMEOUT);
        PARSER.declareFloat((r, v) -> r.minScore = v, MIN_SCORE_FIELD);
        PARSER.declareString((r, v) -> r.retrieverName = v, NAME_FIELD);
        PARSER.declareObjectArray(
            (r, v) -> r.preFilterQueryBuilders = v,
            (p, c) -> AbstractQueryBuilder.parseTopLevelQuery(p, c.parent()::trackQueryUsage),
            PRE_FILTER_FIELD
        );
    }

    public static AsideRerankRetrieverBuilder fromXContent(XContentParser parser, RetrieverParserContext context, Supplier<AsideClient> client)
        throws IOException {
        return PARSER.apply(parser, new Context(context, client));
    }

    private final Supplier<AsideClient> client;
    private final RerankOptions options;

    AsideRerankRetrieverBuilder(List<RetrieverSource> inner, Supplier<AsideClient> client, int rankWindowSize, RerankOptions options) {
        super(inner, rankWindowSize);
        if (inner.size() != 1) throw new IllegalArgumentException("[" + NAME + "] needs exactly one inner retriever");
        if (rankWindowSize < 1) throw new IllegalArgumentException("[" + NAME + "] [rank_window_size] must be at least 1");
        this.client = client;
        this.options = options;
    }

    @Override
    protected AsideRerankRetrieverBuilder clone(List<RetrieverSource> newChildren, List<QueryBuilder> newPreFilters) {
        AsideRerankRetrieverBuilder copy = new AsideRerankRetrieverBuilder(newChildren, client, rankWindowSize, options);
        copy.minScore = minScore;
        copy.retrieverName = retrieverName;
        copy.preFilterQueryBuilders = newPreFilters;
        return copy;
    }

    @Override
    protected SearchSourceBuilder finalizeSourceBuilder(SearchSourceBuilder source) {
        return source.rankBuilder(new AsideRankBuilder(client, rankWindowSize, options));
    }

    @Override
    protected RankDoc[] combineInnerRetrieverResults(List<ScoreDoc[]> results, boolean explain) {
        // The inner search came back re-ranked; min_score applies to the re-ranked scores.
        List<RankDoc> docs = new ArrayList<>();
        for (ScoreDoc d : results.getFirst()) {
            if (minScore == null || d.score >= minScore) docs.add(new RankDoc(d.doc, d.score, d.shardIndex));
        }
        return docs.toArray(RankDoc[]::new);
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    protected void doToXContent(XContentBuilder b, Params params) throws IOException {
        b.field(RETRIEVER.getPreferredName(), innerRetrievers.getFirst().retriever());
        b.field(RANK_WINDOW_SIZE_FIELD.getPreferredName(), rankWindowSize);
        options.toXContentFields(b);
    }

    @Override
    public boolean doEquals(Object other) {
        return super.doEquals(other) && options.equals(((AsideRerankRetrieverBuilder) other).options);
    }

    @Override
    public int doHashCode() {
        return Objects.hash(super.doHashCode(), options);
    }
}
