package dev.aside.elasticsearch;

import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.io.stream.Writeable;
import org.elasticsearch.xcontent.ConstructingObjectParser;
import org.elasticsearch.xcontent.ParseField;
import org.elasticsearch.xcontent.ToXContentObject;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.IOException;

import static org.elasticsearch.xcontent.ConstructingObjectParser.constructorArg;
import static org.elasticsearch.xcontent.ConstructingObjectParser.optionalConstructorArg;

/**
 * Aside's score blend (the same contract as /v1/search `rerank.blend`): per-query min-max normalisation
 * of the re-ranker's and the first stage's scores over the window (all 0 when max == min), then the
 * weighted sum divided by the sum of the weights. With BM25 candidates, {rerank: a, first_stage: b}
 * equals Aside's {rerank: a, bm25: b}.
 */
public record Blend(float rerank, float firstStage) implements Writeable, ToXContentObject {
    static final ParseField RERANK = new ParseField("rerank");
    static final ParseField FIRST_STAGE = new ParseField("first_stage");

    public static final ConstructingObjectParser<Blend, Void> PARSER = new ConstructingObjectParser<>(
        "blend",
        a -> new Blend(((Number) a[0]).floatValue(), a[1] == null ? 0f : ((Number) a[1]).floatValue())
    );
    static {
        PARSER.declareFloat(constructorArg(), RERANK);
        PARSER.declareFloat(optionalConstructorArg(), FIRST_STAGE);
    }

    public Blend {
        if (rerank < 0 || firstStage < 0 || Float.isNaN(rerank) || Float.isNaN(firstStage)) {
            throw new IllegalArgumentException("[blend] weights must be non-negative numbers");
        }
        if (rerank + firstStage <= 0) throw new IllegalArgumentException("[blend] needs a positive weight");
    }

    public Blend(StreamInput in) throws IOException {
        this(in.readFloat(), in.readFloat());
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
        out.writeFloat(rerank);
        out.writeFloat(firstStage);
    }

    @Override
    public XContentBuilder toXContent(XContentBuilder b, Params params) throws IOException {
        return b.startObject().field(RERANK.getPreferredName(), rerank).field(FIRST_STAGE.getPreferredName(), firstStage).endObject();
    }

    public float[] apply(float[] rerankScores, float[] firstStageScores) {
        float[] r = normalise(rerankScores);
        float[] f = normalise(firstStageScores);
        float[] out = new float[r.length];
        for (int i = 0; i < r.length; i++) out[i] = (rerank * r[i] + firstStage * f[i]) / (rerank + firstStage);
        return out;
    }

    static float[] normalise(float[] s) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (float x : s) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        float[] out = new float[s.length];
        if (max > min) for (int i = 0; i < s.length; i++) out[i] = (s[i] - min) / (max - min);
        return out;
    }
}
