// gen's own stand-in for Spark's examples jar (FAKE: Spark 4.x publishes no
// spark-examples_2.13 to Maven Central and the pyspark distribution on PyPI
// carries no examples jar; see hack/spark/build.sh). It has the class name the
// example SparkApplication runs (mainClass org.apache.spark.examples.SparkPi)
// and does what that example does: estimate pi by sampling points in the unit
// square, split into as many tasks as the first argument says, on the
// executors, through Spark's public Java API. It is compiled by
// hack/spark/build.sh against the very jars of the tests' SPARK_HOME.
package org.apache.spark.examples;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

public final class SparkPi {
  private SparkPi() {}

  public static void main(String[] args) {
    int slices = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    // Each task samples this many points: small, so that a run with 1000
    // tasks (the example's argument) is about task scheduling, not CPU.
    final int perSlice = 10000;
    SparkSession spark = SparkSession.builder().appName("Spark Pi").getOrCreate();
    JavaSparkContext jsc = new JavaSparkContext(spark.sparkContext());
    List<Integer> seeds = new ArrayList<>(slices);
    for (int i = 0; i < slices; i++) {
      seeds.add(i);
    }
    long inside = jsc.parallelize(seeds, slices).map(seed -> {
      // A per-task generator seeded by the task's number: the result is the
      // same on every run, whatever executor runs the task.
      java.util.Random random = new java.util.Random(seed);
      long hits = 0;
      for (int i = 0; i < perSlice; i++) {
        double x = random.nextDouble() * 2 - 1;
        double y = random.nextDouble() * 2 - 1;
        if (x * x + y * y <= 1) {
          hits++;
        }
      }
      return hits;
    }).reduce(Long::sum);
    System.out.println("Pi is roughly " + 4.0 * inside / ((long) slices * perSlice));
    spark.stop();
  }
}
